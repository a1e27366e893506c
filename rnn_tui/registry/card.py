"""Model cards: the ``card.json`` beside every model version, and its checks.

The card is the only thing the registry says about a model (docs/ARCHITECTURE.md shows a
full one). It is plain, versioned JSON: ``format`` is ``"rnn-tui-card"`` and
``format_version`` is 1. A card must hold ``name``, ``version``, ``created``, ``task`` and
``files`` (``{relative path: sha256}`` of every file of the version except the card itself);
the other sections are optional but, when present, must have the right shape. Unknown keys
are kept, so newer writers can add sections without breaking older readers.

>>> card = validate_card({"format": "rnn-tui-card", "format_version": 1, "name": "demo",
...     "version": 1, "created": "2026-11-25T12:00:00+00:00", "task": "binary",
...     "files": {"model.keras": "0" * 64}})
>>> card["task"]
'binary'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import platform
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from rnn_tui.errors import DataError
from rnn_tui.jsontext import parse_json
from rnn_tui.registry.names import check_name

CARD_FILE = "card.json"
CARD_FORMAT = "rnn-tui-card"
CARD_FORMAT_VERSION = 1
# The card's own sha256 (of the rest of it, as canonical JSON), stamped on publishing: the
# files have theirs in "files", and without this a damaged card could still parse and show
# wrong labels. Cards without it (older ones) are accepted.
CARD_CHECKSUM = "card_sha256"
TASKS = ("binary", "multiclass", "regression")
INPUT_KINDS = ("text", "sequence")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def utc_now() -> str:
    """The current time as the cards write it: ISO 8601, UTC, seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions worth recording in a card, found without importing TensorFlow."""
    from importlib import metadata

    from rnn_tui import __version__

    versions = {"rnn_tui": __version__, "python": platform.python_version()}
    for distribution in ("tensorflow", "keras", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[distribution] = metadata.version(distribution)
    return versions


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks (model files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def card_checksum(card: Mapping[str, Any]) -> str:
    """The sha256 of a card without its ``card_sha256``, as sorted, compact JSON.

    >>> len(card_checksum({"name": "demo", "card_sha256": "ignored"}))
    64
    """
    body = {key: value for key, value in card.items() if key != CARD_CHECKSUM}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=True)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def check_relative_path(text: object) -> str:
    """A file name inside a version folder: relative, no ``..``, no backslashes.

    Raises ValueError (callers turn it into a DataError that names their file).
    """
    if not isinstance(text, str) or not text:
        raise ValueError("empty file name")
    path = PurePosixPath(text)
    if path.is_absolute() or "\\" in text or text.startswith("/"):
        raise ValueError(f"file name {text!r} is absolute")
    if any(part in ("..", ".", "") for part in text.split("/")):
        raise ValueError(f"file name {text!r} has '.', '..' or an empty part")
    if "\x00" in text:
        raise ValueError(f"file name {text!r} holds a NUL character")
    return text


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_card(card: Mapping[str, Any]) -> None:
    """Raise ValueError with the first problem found (the format/version checks come first)."""
    if not isinstance(card, Mapping):
        raise ValueError("a card must be a JSON object")
    if card.get("format") != CARD_FORMAT:
        raise ValueError(f"not an rnn-tui model card (format is {card.get('format')!r})")
    version = card.get("format_version")
    if version != CARD_FORMAT_VERSION:
        raise ValueError(
            f"card format_version {version!r} is not supported: this rnn-tui reads "
            f"version {CARD_FORMAT_VERSION} (a newer rnn-tui may have written it)"
        )
    checksum = card.get(CARD_CHECKSUM)
    if checksum is not None and checksum != card_checksum(card):
        raise ValueError(f"the card does not match its own {CARD_CHECKSUM}: it was changed or "
                         "damaged after publishing")
    for key in ("name", "version", "created", "task", "files"):
        if key not in card:
            raise ValueError(f"the card has no {key!r}")
    try:
        check_name(card["name"])
    except Exception as error:  # UserError: keep its message
        raise ValueError(str(error)) from None
    if not isinstance(card["version"], int) or isinstance(card["version"], bool) \
            or card["version"] < 1:
        raise ValueError(f"'version' must be a positive integer, not {card['version']!r}")
    if not isinstance(card["created"], str):
        raise ValueError("'created' must be an ISO 8601 time")
    try:
        datetime.fromisoformat(card["created"])
    except ValueError:
        raise ValueError(f"'created' is not an ISO 8601 time: {card['created']!r}") from None
    if card["task"] not in TASKS:
        raise ValueError(f"'task' must be one of {', '.join(TASKS)}, not {card['task']!r}")
    files = card["files"]
    if not isinstance(files, Mapping) or not files:
        raise ValueError("'files' must map each file of the version to its sha256")
    for name, digest in files.items():
        check_relative_path(name)
        if name == CARD_FILE:
            raise ValueError("'files' must not list card.json itself")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ValueError(f"'files'[{name!r}] is not a sha256 hex digest")
    _check_optional_sections(card)


def _check_optional_sections(card: Mapping[str, Any]) -> None:
    labels = card.get("labels")
    if labels is not None:
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ValueError("'labels' must be a list of strings")
        if card["task"] == "binary" and len(labels) not in (0, 2):
            raise ValueError(f"a binary model has 2 labels, this card lists {len(labels)}")
    for key in ("dataset", "vocabulary", "architecture", "training", "params", "packages"):
        if card.get(key) is not None and not isinstance(card[key], Mapping):
            raise ValueError(f"{key!r} must be an object")
    model_input = card.get("input")
    if model_input is not None:
        if not isinstance(model_input, Mapping) or model_input.get("kind") not in INPUT_KINDS:
            raise ValueError(f"'input' must be an object whose kind is one of {INPUT_KINDS}")
        for key in ("maxlen", "timesteps", "channels"):
            value = model_input.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 1):
                raise ValueError(f"'input'.{key} must be a positive integer or null")
    metrics = card.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, Mapping):
            raise ValueError("'metrics' must map a split to its metrics")
        for split, values in metrics.items():
            if not isinstance(values, Mapping) or not all(
                value is None or _is_number(value) for value in values.values()
            ):
                raise ValueError(f"'metrics'.{split} must map metric names to numbers")
    history = card.get("history")
    if history is not None:
        if not isinstance(history, Mapping) or not all(
            isinstance(series, list) and all(v is None or _is_number(v) for v in series)
            for series in history.values()
        ):
            raise ValueError("'history' must map metric names to lists of numbers")
    layers = card.get("layers")
    if layers is not None and (
        not isinstance(layers, list) or not all(isinstance(x, Mapping) for x in layers)
    ):
        raise ValueError("'layers' must be a list of objects")
    notes = card.get("notes")
    if notes is not None and (
        not isinstance(notes, list) or not all(isinstance(x, str) for x in notes)
    ):
        raise ValueError("'notes' must be a list of strings")
    for key, value in (card.get("params") or {}).items():
        if key in ("total", "trainable", "non_trainable") and value is not None and (
                not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"'params'.{key} must be a whole number")


def validate_card(card: Mapping[str, Any], path: str | Path | None = None) -> dict[str, Any]:
    """Check a card and return it as a dict; a problem raises a DataError naming ``path``.

    >>> validate_card({"format": "rnn-tui-card", "format_version": 2}, "m/1/card.json")
    Traceback (most recent call last):
    ...
    rnn_tui.errors.DataError: m/1/card.json: card format_version 2 is not supported: ...
    """
    try:
        _check_card(card)
    except ValueError as error:
        raise DataError(str(error), path) from None
    return dict(card)


def read_card(path: str | Path) -> dict[str, Any]:
    """Read and validate ``card.json`` (give the file or its version folder).

    A missing, truncated or malformed card is a DataError naming the file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CARD_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("the model card is missing", path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read the model card: {error}", path) from None
    card = parse_json(text, path, what="the model card is not valid JSON")
    return validate_card(card, path)


def card_json(card: Mapping[str, Any]) -> str:
    """The text written to card.json: readable, UTF-8 (Korean labels stay legible)."""
    return json.dumps(card, ensure_ascii=False, indent=2, allow_nan=True) + "\n"


def main_metric(card: Mapping[str, Any]) -> tuple[str, float, str] | None:
    """The number to show in a model list: ``(metric, value, split)`` or None.

    Accuracy for classifiers, mean absolute error (else loss) for regression; the test split
    first, then validation.
    """
    metrics = card.get("metrics") or {}
    wanted = ("mae", "mean_absolute_error", "loss") if card.get("task") == "regression" \
        else ("accuracy", "acc", "loss")
    for metric in wanted:
        for split in ("test", "validation", "train"):
            value = (metrics.get(split) or {}).get(metric)
            if _is_number(value) and not math.isnan(value):
                return metric, float(value), split
    return None
