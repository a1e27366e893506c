"""``rnn-tui export``: a registry model in a standard format, with what another program needs
to feed it the same ids: the vocabulary files and ``preprocess.json``.

The folder is built beside its destination and renamed into place only when complete, so
a failed or interrupted export leaves nothing behind.

>>> export_model("imdb-sentiment", "onnx", Path("imdb-onnx"))        # doctest: +SKIP
ExportResult(path=PosixPath('imdb-onnx'), artifact='model.onnx', ...)

Layout: ``OUT/<artifact>`` (``saved_model/``, ``model.tflite``, ``model.onnx`` or
``model.keras``), ``OUT/vocabulary*.json`` (text models), ``OUT/card.json`` (the registry
card, as published) and ``OUT/preprocess.json`` (see ``rnn_tui.export.preprocess``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnn_tui.errors import UserError
from rnn_tui.export.formats import ARTIFACTS, FORMATS, ExportFailed

__all__ = ["ARTIFACTS", "FORMATS", "ExportFailed", "ExportResult", "export_model"]


@dataclass
class ExportResult:
    path: Path
    artifact: str
    model: str  # NAME:VERSION
    fmt: str
    preprocess: dict[str, Any]


def check_destination(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise UserError(f"{out} exists already: give a new folder to export into")
    if not out.parent.is_dir():
        raise UserError(f"{out.parent} is not a folder")


def export_model(ref: str, fmt: str, out: Path, *, trust: bool = False) -> ExportResult:
    """Export the registry model ``ref`` as ``fmt`` into the new folder ``out``."""
    from rnn_tui.export import formats, preprocess
    from rnn_tui.fileio import fsync_path
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import load_keras_model, open_registries

    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out = Path(out)
    check_destination(out)
    version = open_registries().resolve(ref)
    if not version.has_file("model.keras"):
        raise UserError(f"{version.ref} has no model.keras to export")
    predictor = Predictor.load(version)  # the ids and the example come from the runtime's side
    from rnn_tui.backend import keras

    keras()
    model = load_keras_model(version, trust=trust, compile=False)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        artifact = formats.write(fmt, model, version, partial, predictor.input.maxlen)
        files = preprocess.copy_vocabularies(version, partial)
        shutil.copyfile(version.path / "card.json", partial / "card.json")
        description = preprocess.describe(version, predictor, model, fmt, artifact, files)
        preprocess.write(partial / "preprocess.json", description)
        for path in sorted(partial.rglob("*"), reverse=True):
            fsync_path(path)
        os.chmod(partial, 0o777 & ~_umask())  # mkdtemp's 0700 is for the partial folder
        check_destination(out)
        os.rename(partial, out)
        fsync_path(out.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(partial)
        raise
    return ExportResult(out, artifact, version.ref, fmt, description)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
