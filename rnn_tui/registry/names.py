"""Model names, aliases, tags and references (``name``, ``name:3``, ``name@best``).

Names become folder names, so they are kept plain: lowercase letters, digits, ``-``, ``_`` and
``.``, not starting with ``.``, no ``..``, at most 64 characters; not ending with ``.`` and
not a device name Windows reserves (``con``, ``nul``, ``com1``, ``lpt1.txt`` ...), so a
registry can be copied to any filesystem. Versions are ASCII digits only (``name:１``, a
fullwidth digit, is not version 1). Aliases and tags follow the
same rule; an alias may not be all digits (``name@3`` would read like a version) and
``latest`` is reserved: it always means the highest version.

>>> ModelRef.parse("imdb-lstm@best")
ModelRef(name='imdb-lstm', version=None, alias='best')
>>> str(ModelRef.parse("imdb-lstm:3"))
'imdb-lstm:3'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rnn_tui.errors import UserError

MAX_NAME_LENGTH = 64
LATEST = "latest"
_PLAIN = re.compile(r"[a-z0-9_-][a-z0-9._-]*")
_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() also takes "１" and "²"
# More would be no version anyone has, and int() refuses over 4,300 digits (a ValueError).
MAX_VERSION_DIGITS = 18
# Device names Windows reserves in every folder, with any extension (con.txt is con).
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                              *(f"lpt{i}" for i in range(1, 10))})


def check_plain(value: object, what: str = "model name") -> str:
    """Return ``value`` if it is a plain name, else raise a UserError saying what is wrong.

    >>> check_plain("nsmc-gru_2")
    'nsmc-gru_2'
    """
    if not isinstance(value, str) or not value:
        raise UserError(f"the {what} is empty")
    shown = repr(value)
    if len(value) > MAX_NAME_LENGTH:
        raise UserError(f"{what} {shown} is longer than {MAX_NAME_LENGTH} characters")
    if "/" in value or "\\" in value:
        raise UserError(f"{what} {shown} must not contain a path separator")
    if value.startswith("."):
        raise UserError(f"{what} {shown} must not start with '.'")
    if ".." in value:
        raise UserError(f"{what} {shown} must not contain '..'")
    if value != value.lower() and _PLAIN.fullmatch(value.lower()):
        raise UserError(f"{what} {shown} must be lowercase (try {value.lower()!r})")
    if not _PLAIN.fullmatch(value):
        raise UserError(
            f"{what} {shown} may hold only lowercase letters, digits, '-', '_' and '.'"
        )
    if value.endswith("."):
        raise UserError(f"{what} {shown} must not end with '.' (Windows drops it)")
    if value.split(".", 1)[0] in WINDOWS_RESERVED:
        raise UserError(f"{what} {shown} is a device name reserved on Windows; choose another")
    return value


def check_name(name: object) -> str:
    """Validate a model name (see the module docstring)."""
    return check_plain(name, "model name")


def check_alias(alias: object, *, settable: bool = True) -> str:
    """Validate an alias; ``settable`` also refuses the reserved ``latest``."""
    check_plain(alias, "alias")
    assert isinstance(alias, str)
    if _DIGITS.fullmatch(alias):
        raise UserError(f"alias {alias!r} must not be a number (that reads like a version)")
    if settable and alias == LATEST:
        raise UserError("'latest' is reserved: it always means the highest version")
    return alias


def check_tag(tag: object) -> str:
    """Validate a tag."""
    return check_plain(tag, "tag")


def check_version(version: object) -> int:
    """A version is a positive integer (``"3"`` is accepted from the command line)."""
    if isinstance(version, bool):
        raise UserError(f"version {version!r} is not a positive whole number")
    if isinstance(version, str) and _DIGITS.fullmatch(version) \
            and len(version) <= MAX_VERSION_DIGITS and version == str(int(version)):
        version = int(version)
    if not isinstance(version, int) or version < 1:
        raise UserError(f"version {version!r} is not a positive whole number")
    return version


def _shorter(text: str, limit: int = 80) -> str:
    """``repr(text)``, cut in the middle when long (a reference from a request)."""
    shown = repr(text)
    return shown if len(shown) <= limit else f"{shown[:limit // 2]}...{shown[-limit // 2:]}"


@dataclass(frozen=True)
class ModelRef:
    """A reference to one model version: by number, by alias, or the latest."""

    name: str
    version: int | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, text: str | ModelRef) -> ModelRef:
        """Parse ``name``, ``name:3`` or ``name@alias``; bad input raises a UserError.

        >>> ModelRef.parse("reuters-gru")
        ModelRef(name='reuters-gru', version=None, alias=None)
        """
        if isinstance(text, ModelRef):
            return text
        if not isinstance(text, str) or not text.strip():
            raise UserError("empty model reference (expected NAME, NAME:VERSION or NAME@ALIAS)")
        text = text.strip()
        if ":" in text and "@" in text:
            raise UserError(f"model reference {text!r} has both ':' and '@': use one")
        if ":" in text:
            name, _, version_text = text.partition(":")
            check_name(name)
            if len(version_text) > MAX_VERSION_DIGITS:
                raise UserError(f"in {_shorter(text)} the version after ':' has more than "
                                f"{MAX_VERSION_DIGITS} digits")
            if not _DIGITS.fullmatch(version_text) or int(version_text) < 1:
                raise UserError(
                    f"in {text!r} the version after ':' must be a positive number"
                )
            return cls(name, version=int(version_text))
        if "@" in text:
            name, _, alias = text.partition("@")
            check_name(name)
            check_alias(alias, settable=False)
            return cls(name, alias=None if alias == LATEST else alias)
        return cls(check_name(text))

    @property
    def is_plain_name(self) -> bool:
        """True for a bare ``name`` (no version, no alias)."""
        return self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name
