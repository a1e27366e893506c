"""The corrections corpus of one model: what a user said a verdict should have been.

One JSON object per line in ``<home>/corrections/<name>.jsonl``:
``{"text", "label", "model" (the ref that gave the wrong verdict), "was" (its label, or
null), "time" (ISO 8601, UTC)}``. Corrections belong to a model *name*, so a version taught
from them inherits them and later corrections add to the same corpus.

Writes happen under an inter-process lock (the registry's kind, ``RNN_TUI_LOCK``) and
replace the file atomically and durably (``rnn_tui.fileio``): two processes adding at once
both land, and a crash leaves the old file or the new one, never half a line. Lines that
cannot be read (edited by hand, from a newer rnn-tui) are reported by file and line,
skipped when reading, and kept byte for byte by every later write.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from rnn_tui import paths
from rnn_tui.errors import DataError, UserError
from rnn_tui.fileio import atomic_path
from rnn_tui.registry.names import check_name

MAX_FILE_BYTES = 64 << 20  # a corrections file is typed by hand: larger is not one
MAX_TEXT_CHARS = 100_000
LOCK_TIMEOUT_S = 30.0
CSV_COLUMNS = ("text", "label", "was", "model", "time")


@dataclass(frozen=True)
class Correction:
    """One corrected verdict."""

    text: str
    label: str
    model: str
    was: str | None = None
    time: str = field(default_factory=lambda: datetime.now(timezone.utc)
                      .isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Correction:
        """Raises ValueError naming what is wrong with a record."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        for key in ("text", "label", "model"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"{key!r} must be a non-empty string")
        for key in ("was", "time"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"{key!r} must be a string")
        if len(data["text"]) > MAX_TEXT_CHARS:
            raise ValueError(f"the text is longer than {MAX_TEXT_CHARS:,} characters")
        return cls(text=data["text"], label=data["label"], model=data["model"],
                   was=data.get("was"), time=data.get("time") or "")


@dataclass
class CorrectionsRead:
    """What a corrections file holds: the readable corrections, and a DataError
    (``path:line: problem``) for each line that is not one."""

    corrections: list[Correction]
    problems: list[DataError]


class Corrections:
    """The corrections file of one model name.

    >>> import tempfile
    >>> store = Corrections.for_model("demo", root=Path(tempfile.mkdtemp()))
    >>> store.add(Correction("a dull, lifeless film", "negative", "demo:1", was="positive"))
    >>> [(c.text, c.label) for c in store.read().corrections]
    [('a dull, lifeless film', 'negative')]
    >>> store.undo_last().label, store.read().corrections
    ('negative', [])
    """

    def __init__(self, path: Path, lock_path: Path):
        self.path = Path(path)
        self.lock_path = Path(lock_path)

    @classmethod
    def for_model(cls, name: str, root: Path | None = None) -> Corrections:
        check_name(name)
        root = Path(root) if root is not None else paths.corrections_root()
        return cls(root / f"{name}.jsonl", root / ".locks" / f"{name}.lock")

    # ------------------------------------------------------------------ reading
    def _raw(self) -> bytes:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return b""
        except OSError as error:
            raise DataError(f"cannot read: {error.strerror or error}", self.path) from None
        if len(data) > MAX_FILE_BYTES:
            raise DataError(f"larger than {MAX_FILE_BYTES >> 20} MiB: not a corrections "
                            "file", self.path)
        return data

    def _parse(self, data: bytes) -> tuple[list[tuple[int, Correction]], list[DataError]]:
        found: list[tuple[int, Correction]] = []
        problems: list[DataError] = []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
                found.append((number, Correction.from_dict(record)))
            except UnicodeDecodeError:
                problems.append(DataError("not UTF-8 text (skipped)", self.path, number))
            except (ValueError, RecursionError) as error:
                reason = "not JSON" if isinstance(error, json.JSONDecodeError) else str(error)
                problems.append(DataError(f"{reason} (skipped)", self.path, number))
        return found, problems

    def read(self) -> CorrectionsRead:
        found, problems = self._parse(self._raw())
        return CorrectionsRead([correction for _, correction in found], problems)

    # ------------------------------------------------------------------ writing
    def _lock(self) -> Any:
        from rnn_tui.registry.locking import interprocess_lock

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        return interprocess_lock(self.lock_path, timeout=LOCK_TIMEOUT_S)

    def _replace(self, data: bytes) -> None:
        with atomic_path(self.path) as temp:
            temp.write_bytes(data)

    def add(self, correction: Correction) -> None:
        """Append one correction (the file is rewritten whole, atomically, under the lock)."""
        self.add_many([correction])

    def add_many(self, corrections: Iterable[Correction]) -> None:
        lines = b"".join(json.dumps(c.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n"
                         for c in corrections)
        try:
            with self._lock():
                data = self._raw()
                if data and not data.endswith(b"\n"):  # a last line cut short stays its own
                    data += b"\n"
                self._replace(data + lines)
        except OSError as error:
            raise UserError(f"{self.path}: cannot write: {error.strerror or error}") from None

    def undo_last(self) -> Correction | None:
        """Remove the last readable correction and return it (None when there is none).
        Unreadable lines stay as they are."""
        try:
            with self._lock():
                data = self._raw()
                found, _ = self._parse(data)
                if not found:
                    return None
                number, correction = found[-1]
                lines = data.splitlines(keepends=True)
                del lines[number - 1]
                self._replace(b"".join(lines))
        except OSError as error:
            raise UserError(f"{self.path}: cannot write: {error.strerror or error}") from None
        return correction


def write_csv(corrections: Iterable[Correction], out: IO[str]) -> None:
    """The corrections as CSV (a header, then one row each; ``csv`` quotes as needed)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for correction in corrections:
        row = correction.to_dict()
        writer.writerow([row[column] or "" for column in CSV_COLUMNS])


def check_teachable(name: str, input_kind: str, task: str, labels: list[str],
                    label: str | None = None) -> None:
    """Refuse a model that corrections cannot teach (not a text classifier), and a label it
    does not have (UserError, one line)."""
    if input_kind != "text" or task not in ("binary", "multiclass"):
        what = "reads numeric sequences" if input_kind != "text" else f"is a {task} model"
        raise UserError(f"{name} {what}: corrections teach text classifiers only")
    if label is not None and label not in labels:
        raise UserError(f"{name} has no label {label!r}; its labels are: " + ", ".join(labels))
