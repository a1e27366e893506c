"""Your own data: a CSV, TSV or JSONL file, or a folder with one sub-folder per class.

Files (UTF-8, a byte-order mark is fine):

- ``.csv``: comma-separated with a header row, standard CSV quoting.
- ``.tsv`` / ``.tab`` / ``.txt``: tab-separated with a header row, **no quoting** (quotes are
  ordinary characters, as in NSMC).
- ``.jsonl`` / ``.ndjson``: one JSON object a line; ``.json``: one JSON array of objects.

``text_col`` and ``label_col`` name the columns (keys). Blank lines are skipped; rows with
an empty text are dropped (with a note). Every other problem (a missing column, a row with
the wrong number of fields, an empty or non-numeric label, invalid UTF-8) is a DataError
with the file and line.

Folders: ``FOLDER/<class>/*.txt`` (one text a file), or ``FOLDER/train/<class>/*.txt`` and
``FOLDER/test/<class>/*.txt`` for a given split (the aclImdb layout).

Labels: classification unless ``task="regression"``. Label values are mapped to class ids in
sorted order (numerically when every value is a number, so ``2`` < ``10``; ``1`` and ``1.0``
are the same class) and their text kept as the label names; two classes make a binary task,
more a multiclass one. With ``task="regression"`` labels must be numbers (float32 targets).

Split: if the file has a column named ``split_col`` (default ``split``) its values choose
the split (train, test, or validation/valid/dev). Otherwise ``test_size`` (0.2) of the rows
go to test: ``RandomState(seed).permutation(n)``, the first ``ceil(test_size * n)`` for test
(scikit-learn's ``train_test_split`` draw), seed 42.

>>> corpus = load("reviews.csv", text_col="review", label_col="stars")
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.data import readers
from rnn_tui.data.corpus import Corpus, SourceInfo, Split
from rnn_tui.data.shopping import random_split
from rnn_tui.errors import DataError, UserError
from rnn_tui.jsontext import parse_json

CSV_SUFFIXES = (".csv",)
TSV_SUFFIXES = (".tsv", ".tab", ".txt")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
JSON_SUFFIXES = (".json",)
SUFFIXES = CSV_SUFFIXES + TSV_SUFFIXES + JSONL_SUFFIXES + JSON_SUFFIXES
SPLIT_NAMES = {"train": "train", "test": "test", "validation": "validation", "valid": "validation",
               "dev": "validation", "val": "validation"}
TASKS = (None, "binary", "multiclass", "regression")
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Row:
    text: str
    label: Any
    split: str | None
    line: int | None
    where: Path


def looks_like_path(name: str) -> bool:
    """True when ``name`` should be read as a path rather than a catalog name."""
    return (
        os.sep in name
        or "/" in name
        or name.lower().endswith(SUFFIXES)
        or Path(name).expanduser().exists()
    )


def load(
    path: Path | str,
    *,
    text_col: str = "text",
    label_col: str = "label",
    task: str | None = None,
    test_size: float = 0.2,
    seed: int = 42,
    split_col: str = "split",
    language: str | None = None,
) -> Corpus:
    """Load your own labelled texts (see the module docstring for formats and rules).

    >>> load("data/reviews.tsv", text_col="document").label_names
    ['0', '1']
    """
    if task not in TASKS:
        raise UserError(f"task must be binary, multiclass or regression, not {task!r}")
    if not 0.0 < test_size < 1.0:
        raise UserError(f"test_size must be between 0 and 1, not {test_size}")
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError("not found", path)
    if path.is_dir():
        rows, form = read_folder(path), "folder per class"
    else:
        rows, form = read_table(path, text_col, label_col, split_col)
    notes = [f"{len(rows):,} rows read from {path.name}"]
    kept = [row for row in rows if row.text.strip()]
    if len(kept) < len(rows):
        notes.append(f"{len(rows) - len(kept):,} rows with an empty text dropped")
    if not kept:
        raise DataError("no texts found", path)
    labels, label_names, task = _encode_labels(kept, task, path)
    splits, split_note = _split(kept, labels, test_size, seed, path)
    notes.append(split_note)
    return Corpus(
        name=path.stem if path.is_file() else path.name,
        task=task,
        label_names=label_names,
        language=language,
        train=splits["train"],
        test=splits["test"],
        validation=splits.get("validation"),
        source=SourceInfo(title=str(path), description=f"your own data ({form})"),
        notes=notes,
        form=form,
    )


# ---------------------------------------------------------------------------- files
def read_table(path: Path, text_col: str, label_col: str, split_col: str) -> tuple[list[Row], str]:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return _read_jsonl(path, text_col, label_col, split_col), "JSONL file"
    if suffix in JSON_SUFFIXES:
        return _read_json_array(path, text_col, label_col, split_col), "JSON file"
    if suffix in CSV_SUFFIXES:
        return _read_delimited(path, ",", text_col, label_col, split_col), "CSV file"
    if suffix in TSV_SUFFIXES:
        return _read_delimited(path, "\t", text_col, label_col, split_col), "TSV file"
    raise DataError(
        f"unknown file type {path.suffix or '(none)'!r}: use .csv, .tsv, .jsonl or .json, or a "
        "folder with one sub-folder per class",
        path,
    )


def _column(header: list[str], name: str, role: str, path: Path, option: str) -> int:
    try:
        return header.index(name)
    except ValueError:
        shown = ", ".join(repr(h) for h in header[:12])
        raise DataError(
            f"no {role} column {name!r} (columns: {shown}); choose it with {option}", path, 1
        ) from None


def _read_delimited(
    path: Path, delimiter: str, text_col: str, label_col: str, split_col: str
) -> list[Row]:
    text = readers.read_utf8(path)
    quoting = csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    rows: list[Row] = []
    try:
        header = next(reader, None)
        if header is None:
            raise DataError("empty file: expected a header row", path)
        header = [name.strip() for name in header]
        text_index = _column(header, text_col, "text", path, "text_col (--text-col)")
        label_index = _column(header, label_col, "label", path, "label_col (--label-col)")
        split_index = header.index(split_col) if split_col in header else None
        for fields in reader:
            line = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != len(header):
                raise DataError(
                    f"expected {len(header)} fields (as in the header), found {len(fields)}",
                    path,
                    line,
                )
            split = fields[split_index] if split_index is not None else None
            rows.append(Row(fields[text_index], fields[label_index], split, line, path))
    except csv.Error as error:
        raise DataError(f"malformed CSV ({error})", path, reader.line_num) from None
    return rows


def _row_from_object(
    record: Any, path: Path, line: int | None, text_col: str, label_col: str, split_col: str
) -> Row:
    if not isinstance(record, dict):
        raise DataError(f"expected a JSON object, found {type(record).__name__}", path, line)
    for key, option in ((text_col, "text_col"), (label_col, "label_col")):
        if key not in record:
            shown = ", ".join(repr(k) for k in list(record)[:12])
            raise DataError(f"no key {key!r} (keys: {shown}); choose it with {option}", path, line)
    text = record[text_col]
    if not isinstance(text, str):
        raise DataError(f"{text_col!r} must be a string, not {type(text).__name__}", path, line)
    split = record.get(split_col)
    return Row(text, record[label_col], None if split is None else str(split), line, path)


def _read_jsonl(path: Path, text_col: str, label_col: str, split_col: str) -> list[Row]:
    rows = []
    for number, line in enumerate(readers.split_lines(readers.read_utf8(path)), start=1):
        if not line.strip():
            continue
        record = parse_json(line, path, number)
        rows.append(_row_from_object(record, path, number, text_col, label_col, split_col))
    return rows


def _read_json_array(path: Path, text_col: str, label_col: str, split_col: str) -> list[Row]:
    records = parse_json(readers.read_utf8(path), path)
    if not isinstance(records, list):
        raise DataError("expected a JSON array of objects", path)
    return [
        _row_from_object(record, path, None, text_col, label_col, split_col)
        for record in records
    ]


def _class_folders(folder: Path, top: Path) -> list[Path]:
    return sorted(
        (readers.check_inside(p, top) for p in folder.iterdir()
         if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def read_folder(folder: Path) -> list[Row]:
    """Rows from ``folder/<class>/*.txt`` or ``folder/{train,test}/<class>/*.txt``."""
    try:
        has_splits = (folder / "train").is_dir() and (folder / "test").is_dir()
        roots = (
            [(folder / "train", "train"), (folder / "test", "test")]
            if has_splits else [(folder, None)]
        )
        rows: list[Row] = []
        for root, split in roots:
            readers.check_inside(root, folder)
            classes = _class_folders(root, folder)
            if not classes:
                raise DataError("no class sub-folders (expected <class>/*.txt)", root)
            for class_folder in classes:
                files = sorted(class_folder.glob("*.txt"))
                if not files:
                    raise DataError("no .txt files in this class folder", class_folder)
                for file in files:
                    readers.check_inside(file, folder)
                    if not file.is_file():  # a FIFO or a device would block or never end
                        raise DataError("not a regular file", file)
                    rows.append(Row(readers.read_utf8(file), class_folder.name, split, None, file))
    except OSError as error:
        problem = f"cannot read: {error.strerror or error}"
        raise DataError(problem, error.filename or folder) from None
    return rows


# ---------------------------------------------------------------------------- labels and splits
def _as_number(value: Any) -> int | float | None:
    """The label as a number (ints stay exact), or None when it is not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _class_key(number: int | float) -> int | float:
    """1, "1" and 1.0 are one class."""
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _encode_labels(
    rows: list[Row], task: str | None, path: Path
) -> tuple[np.ndarray, list[str], str]:
    for row in rows:
        if row.label is None or (isinstance(row.label, str) and not row.label.strip()):
            raise DataError("empty label", row.where, row.line)
        if not isinstance(row.label, (str, int, float, bool)):
            kind = type(row.label).__name__
            raise DataError(
                f"a label must be a string or a number, not {kind}", row.where, row.line
            )
    if task == "regression":
        targets = []
        for row in rows:
            number = _as_number(row.label)
            try:
                target = float(number) if number is not None else math.nan
            except OverflowError:
                target = math.inf
            if not math.isfinite(target):
                raise DataError(
                    f"a regression label must be a number, not {row.label!r}", row.where, row.line
                )
            if abs(target) > FLOAT32_MAX:  # the targets are float32: it would become inf
                raise DataError(f"the regression label {row.label!r} is too large (at most "
                                f"{FLOAT32_MAX:.4g})", row.where, row.line)
            targets.append(target)
        return np.array(targets, dtype=np.float32), [], "regression"
    numbers = [_as_number(row.label) for row in rows]
    if all(n is not None and (isinstance(n, int) or math.isfinite(n)) for n in numbers):
        keys = [_class_key(n) for n in numbers]
        classes = sorted(set(keys))
    else:
        keys = [str(row.label).strip() for row in rows]
        classes = sorted(set(keys))
    if len(classes) < 2:
        raise DataError(
            f"only one label value ({classes[0]!r}): a classifier needs at least two classes "
            "(or pass task='regression')",
            path,
        )
    if task == "binary" and len(classes) != 2:
        raise DataError(f"task 'binary' needs exactly 2 label values, found {len(classes)}", path)
    ids = {key: index for index, key in enumerate(classes)}
    labels = np.array([ids[key] for key in keys], dtype=np.int64)
    resolved = task or ("binary" if len(classes) == 2 else "multiclass")
    return labels, [str(c) for c in classes], resolved


def _split(
    rows: list[Row], labels: np.ndarray, test_size: float, seed: int, path: Path
) -> tuple[dict[str, Split], str]:
    texts = [row.text for row in rows]
    if any(row.split is not None for row in rows):
        groups: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            name = None
            if row.split is not None:
                name = SPLIT_NAMES.get(str(row.split).strip().lower())
            if name is None:
                raise DataError(
                    f"split must be train, test or validation, not {row.split!r}",
                    row.where,
                    row.line,
                )
            groups.setdefault(name, []).append(index)
        for needed in ("train", "test"):
            if needed not in groups:
                raise DataError(f"the split column gives no {needed!r} rows", path)
        splits = {
            name: Split(labels[indices], texts=[texts[i] for i in indices])
            for name, indices in groups.items()
        }
        counts = ", ".join(f"{name} {len(s):,}" for name, s in splits.items())
        return splits, f"split: as given by the file ({counts})"
    if len(rows) < 2:
        raise DataError("need at least 2 rows to split into train and test", path)
    train_rows, test_rows = random_split(len(rows), test_size, seed)
    if not len(train_rows):
        raise DataError(
            f"{len(rows)} rows leave nothing to train on with test_size={test_size:g}", path
        )
    splits = {
        "train": Split(labels[train_rows], texts=[texts[i] for i in train_rows]),
        "test": Split(labels[test_rows], texts=[texts[i] for i in test_rows]),
    }
    return splits, (
        f"split: RandomState({seed}).permutation, the first ceil({test_size:g} * n) rows for test "
        f"({len(train_rows):,} / {len(test_rows):,})"
    )
