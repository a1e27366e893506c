"""Errors that the CLI and the TUI turn into one clear line, never a traceback.

``UserError`` (exit code 2) is for anything the user can fix: a bad argument, a missing or
malformed file, an unknown name. Everything else that we anticipate is an ``RnnTuiError``
(exit code 1).
"""

from __future__ import annotations

from pathlib import Path


class RnnTuiError(Exception):
    """An anticipated failure with a message fit for the user."""

    exit_code = 1


class UserError(RnnTuiError):
    """Bad input or usage: the user can fix it. Exit code 2."""

    exit_code = 2


class DataError(UserError):
    """A data file that is missing, unreadable or malformed.

    The message names the file and, where there is one, the line: ``path:line: problem``.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.problem = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class NotFoundError(UserError):
    """An unknown corpus, model, version or alias."""
