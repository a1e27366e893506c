"""A Keras model written in the standard formats other runtimes read: SavedModel (TensorFlow,
TF Serving), TFLite, ONNX, and the ``.keras`` file itself.

Each writer takes the loaded model and a folder and returns the artifact's name in it.
What works on TensorFlow 2.21 / Keras 3 (and what the parity tests check):

- ``savedmodel``: ``Model.export(format="tf_saved_model")``; any batch, any length.
- ``onnx``: ``Model.export(format="onnx")`` (Keras runs tf2onnx); needs ``tf2onnx`` and, to
  run it, ``onnxruntime`` (``pip install 'rnn-tui[export]'``).
- ``tflite``: the recurrent loops of a model with a free batch or length keep TensorList ops
  that TFLite's builtins cannot lower, so the model is first exported as a SavedModel with a
  fixed (1, maxlen) input and converted from that: one text per ``invoke()``, padded to
  maxlen (preprocess.json says so).
- ``keras``: the registry's ``model.keras`` (Keras 3's own format, safe-mode loadable).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rnn_tui.errors import UserError

FORMATS = ("savedmodel", "tflite", "onnx", "keras")
ARTIFACTS = {"savedmodel": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx",
             "keras": "model.keras"}
EXTRA = "pip install 'rnn-tui[export]'"


class ExportFailed(UserError):
    """The converter refused the model (exit code 2: the format cannot take it)."""


@contextlib.contextmanager
def quiet() -> Any:
    """Converters print progress on stdout and the C++ log on fd 2: keep both away."""
    from rnn_tui.backend import silenced_stderr

    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), \
            silenced_stderr():
        yield


def write_savedmodel(model: Any, folder: Path, fixed_length: int | None = None) -> str:
    """``Model.export`` as a TensorFlow SavedModel (signature ``serving_default``; the
    inputs are int32 ids named as the model's inputs). ``fixed_length`` pins (1, length)."""
    signature = None
    if fixed_length is not None:
        import tensorflow as tf

        specs = [tf.TensorSpec([1, fixed_length, *tensor.shape[2:]], tensor.dtype,
                               name=tensor.name) for tensor in model.inputs]
        signature = [specs] if len(specs) > 1 else specs
    target = folder / ARTIFACTS["savedmodel"]
    with quiet():
        model.export(str(target), format="tf_saved_model", verbose=False,
                     input_signature=signature)
    return target.name


def write_onnx(model: Any, folder: Path, maxlen: int | None) -> str:
    try:
        import tf2onnx  # noqa: F401  (Keras' ONNX export for TensorFlow runs it)
    except ImportError:
        raise UserError(f"the onnx format needs tf2onnx: {EXTRA}") from None
    call_once(model, maxlen)  # Keras' ONNX export refuses a model that was never called
    target = folder / ARTIFACTS["onnx"]
    with quiet():
        model.export(str(target), format="onnx", verbose=False)
    return target.name


def call_once(model: Any, maxlen: int | None) -> None:
    """One forward pass on zeros (a model loaded from a file has not been called yet)."""
    import numpy as np

    arrays = []
    for tensor in model.inputs:
        shape = [1] + [dim if dim is not None else (maxlen or 1) for dim in tensor.shape[1:]]
        arrays.append(np.zeros(shape, tensor.dtype))
    model(arrays if len(arrays) > 1 else arrays[0], training=False)


def write_tflite(model: Any, folder: Path, maxlen: int | None) -> str:
    import tensorflow as tf

    if maxlen is None and model.inputs[0].shape[1] is None:
        raise UserError("the tflite format needs a fixed input length, and this model's "
                        "card gives no maxlen")
    length = maxlen or model.inputs[0].shape[1]
    with tempfile.TemporaryDirectory(prefix=".tflite-", dir=folder) as scratch:
        write_savedmodel(model, Path(scratch), fixed_length=length)
        with quiet():
            converter = tf.lite.TFLiteConverter.from_saved_model(
                str(Path(scratch) / ARTIFACTS["savedmodel"]))
            data = converter.convert()
    target = folder / ARTIFACTS["tflite"]
    target.write_bytes(data)
    return target.name


def write_keras(version: Any, folder: Path) -> str:
    target = folder / ARTIFACTS["keras"]
    shutil.copyfile(version.file("model.keras"), target)
    return target.name


def write(fmt: str, model: Any, version: Any, folder: Path, maxlen: int | None) -> str:
    """Write ``fmt`` into ``folder``; a converter's refusal becomes one ExportFailed line
    naming the layer it stopped at, when its message names one."""
    try:
        if fmt == "savedmodel":
            return write_savedmodel(model, folder)
        if fmt == "onnx":
            return write_onnx(model, folder, maxlen)
        if fmt == "tflite":
            return write_tflite(model, folder, maxlen)
        return write_keras(version, folder)
    except UserError:
        raise
    except Exception as error:  # the converters raise many kinds; all mean "cannot"
        raise ExportFailed(refusal(fmt, model, error)) from None


def refusal(fmt: str, model: Any, error: BaseException) -> str:
    """One line: the format, the layer named in the converter's message, its first line.

    >>> class GRU:
    ...     name = "gru_1"
    >>> class Model:
    ...     layers = [GRU()]
    >>> refusal("tflite", Model(), RuntimeError("x/gru_1_1/TensorArrayV2: op failed\\nmore"))
    "cannot export to tflite: layer 'gru_1' (GRU): x/gru_1_1/TensorArrayV2: op failed"
    """
    message = str(error).strip() or type(error).__name__
    named = [layer for layer in getattr(model, "layers", ())
             if re.search(rf"(^|[/\"' ]){re.escape(layer.name)}(_\d+)?([/\"' :]|$)", message)]
    where = ""
    if named:
        layer = max(named, key=lambda item: len(item.name))
        where = f"layer {layer.name!r} ({type(layer).__name__}): "
    first = next((line for line in message.splitlines() if "error" in line.lower()),
                 message.splitlines()[0])
    return f"cannot export to {fmt}: {where}{first.strip()[:300]}"
