"""JSON read from files, with every way the parser can fail turned into a DataError.

``json.loads`` raises more than ``JSONDecodeError`` on hostile input: a document nested a
few thousand levels deep is a ``RecursionError``, an integer of more than 4,300 digits a
plain ``ValueError`` (Python's int/str conversion limit). Both would reach the user as an
internal error; here they name the file and line like any other malformed JSON.

>>> parse_json('{"label": 1}', "rows.jsonl", 3)
{'label': 1}
>>> parse_json("[" * 100_000, "rows.jsonl", 3)
Traceback (most recent call last):
...
rnn_tui.errors.DataError: rows.jsonl:3: not valid JSON (nested too deeply)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnn_tui.errors import DataError


def parse_json(text: str | bytes, path: str | Path | None, line: int | None = None, *,
               what: str = "not valid JSON") -> Any:
    """``json.loads(text)``; any failure is ``DataError("{what} (why)", path, line)``.

    ``line`` is the line of a JSONL record; for a whole document it is left out and the
    parser's own line number is used where it has one.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"{what} ({error.msg})", path,
                        line if line is not None else error.lineno) from None
    except RecursionError:
        raise DataError(f"{what} (nested too deeply)", path, line) from None
    except ValueError as error:  # e.g. an integer past the 4,300-digit conversion limit
        raise DataError(f"{what} ({error})", path, line) from None
