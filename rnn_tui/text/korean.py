"""Korean morpheme tokenizer (kiwipiepy), loaded lazily.

Kiwi's model takes about 2 s and ~100 MB to load, so it is created on first use and cached
for the process; nothing on the instant paths (help, listing, the shipped models) needs it.
"""

from __future__ import annotations

import threading
from typing import Any

_kiwi: Any = None
_kiwi_lock = threading.Lock()


def get_kiwi() -> Any:
    """The process' one Kiwi analyser (created on first use)."""
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            _kiwi = Kiwi()
        return _kiwi


def morphemes(text: str, with_tags: bool = False) -> list[str]:
    """Split text into morphemes, e.g. "재미있을 줄" -> ["재미있", "을", "줄"].

    With ``with_tags`` each morpheme carries its part of speech ("재미있/VA"), which separates
    homographs at the cost of a larger vocabulary.
    """
    if not text.strip():
        return []
    tokens = get_kiwi().tokenize(text)
    if with_tags:
        return [f"{token.form}/{token.tag}" for token in tokens]
    return [token.form for token in tokens]


def morphemes_many(texts: list[str], with_tags: bool = False) -> list[list[str]]:
    """Tokenize many texts at once (Kiwi batches them internally, much faster than a loop)."""
    kiwi = get_kiwi()
    results: list[list[str]] = []
    for text, tokens in zip(texts, kiwi.tokenize(texts)):
        if with_tags:
            results.append([f"{token.form}/{token.tag}" for token in tokens])
        else:
            results.append([token.form for token in tokens])
    return results
