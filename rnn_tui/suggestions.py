"""The "did you mean" suffix of not-found messages, for any layer (names, presets, kinds).

>>> close_matches("lstn", ["lstm", "gru"])
' (did you mean lstm?)'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean a, b?)"`` suffix for NotFoundError messages, or ``""``."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(matches)}?)" if matches else ""
