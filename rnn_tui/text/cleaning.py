"""Named cleaning steps applied to raw text before tokenizing.

A vocabulary stores the *name* of its cleaner, so a saved model re-applies exactly the same
cleaning at prediction time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def strip_html_breaks(text: str) -> str:
    """IMDB reviews carry ``<br />`` line breaks; they become spaces."""
    return _BR.sub(" ", text)


# The NSMC tutorial's clean_str (itself from Kim's CNN sentence classifier), step by step.
_CLEAN_STR_STEPS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[^가-힣A-Za-z0-9(),!?\'\`]"), " "),
    (re.compile(r"\'s"), " 's"),
    (re.compile(r"\'ve"), " 've"),
    (re.compile(r"n\'t"), " n't"),
    (re.compile(r"\'re"), " 're"),
    (re.compile(r"\'d"), " 'd"),
    (re.compile(r"\'ll"), " 'll"),
    (re.compile(r","), " , "),
    (re.compile(r"!"), " ! "),
    (re.compile(r"\("), r" \( "),
    (re.compile(r"\)"), r" \) "),
    (re.compile(r"\?"), r" \? "),
    (re.compile(r"\s{2,}"), " "),
    (re.compile(r"\'{2,}"), "'"),
    (re.compile(r"\'"), ""),
]


def clean_str(text: str) -> str:
    """The NSMC tutorial's ``clean_str``: keep Hangul, Latin letters, digits and a few signs.

    >>> clean_str("아 더빙.. 진짜 짜증나네요 목소리")
    '아 더빙 진짜 짜증나네요 목소리'
    """
    for pattern, replacement in _CLEAN_STR_STEPS:
        text = pattern.sub(replacement, text)
    return text.lower()


_NOT_HANGUL_DIGIT_SPACE = re.compile(r"[^ㄱ-ㅎㅏ-ㅣ가-힣0-9 ]")


def korean_only(text: str) -> str:
    """The shopping tutorial's cleaning: keep Hangul (syllables and jamo), digits and spaces."""
    return _NOT_HANGUL_DIGIT_SPACE.sub("", text)


CLEANERS: dict[str, Callable[[str], str]] = {
    "none": lambda text: text,
    "html": strip_html_breaks,
    "clean_str": clean_str,
    "korean_only": korean_only,
}


def get_cleaner(name: str) -> Callable[[str], str]:
    try:
        return CLEANERS[name]
    except KeyError:
        known = ", ".join(sorted(CLEANERS))
        raise ValueError(f"unknown cleaner {name!r} (known: {known})") from None
