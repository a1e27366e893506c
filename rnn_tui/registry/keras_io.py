"""Keras at the registry's edge: safe loading, the card's layer sections, float16 weights.

Importing an outside ``.keras``/``.h5`` model is ``rnn_tui.infer.importing`` (it also exports
the runtime's weights, a layer above the registry).

Keras is imported only inside these functions (through ``rnn_tui.backend``), so listing and
showing models never pays for TensorFlow.

Loading is safe by default: ``safe_mode=True`` refuses Lambda layers (their Python code
would run), unknown custom classes are refused with a clear message, and the file must match
the sha256 recorded in its card.

>>> version = open_registries().resolve("imdb-lstm")               # doctest: +SKIP
>>> model = load_keras_model(version)                               # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnn_tui.errors import DataError, UserError
from rnn_tui.registry.card import sha256_file

if TYPE_CHECKING:
    from rnn_tui.registry.versions import ModelVersion

MODEL_FILE = "model.keras"
VOCABULARY_FILE = "vocabulary.json"
RUNTIME_FILE = "runtime.npz"
_UNKNOWN_CLASS = re.compile(r"Could not locate (?:class|function) '([^']+)'")


def load_keras_file(path: Path, *, trust: bool, compile: bool = True) -> Any:
    """``keras.models.load_model`` with its failures turned into one-line errors."""
    from rnn_tui.backend import keras

    keras_module = keras()
    try:
        return keras_module.models.load_model(path, safe_mode=not trust, compile=compile)
    except Exception as error:  # Keras raises ValueError/TypeError/OSError for all of these
        text = str(error)
        unknown = _UNKNOWN_CLASS.search(text)
        if unknown:
            raise UserError(
                f"{path}: refused unknown custom object {unknown.group(1)!r}: rnn-tui loads "
                "only models made of standard Keras layers") from None
        first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
        if not trust and "safe_mode" in text:
            raise UserError(f"{path}: {_safe_mode_refusal(text, first_line)}") from None
        raise DataError(f"cannot load the Keras model: {first_line}", path) from None


_RUNS_CODE = "loading it would run Python code stored in the file"
_IF_TRUSTED = "if you trust where the file came from, load it with --trust (trust=True)"
_EXTERNAL_FILE = re.compile(r"Vocabulary file: '([^']*)'")


def _safe_mode_refusal(text: str, first_line: str) -> str:
    """What Keras' safe mode refused, in words; --trust is suggested only where the refusal
    is about code stored in the file, which is what --trust accepts."""
    if "`Lambda` layer" in text:
        return f"refused a Lambda layer in safe mode ({_RUNS_CODE}); {_IF_TRUSTED}"
    if "Python lambda" in text:
        return (f"refused a Python function stored in the model's config (a lambda, e.g. as "
                f"an activation) in safe mode ({_RUNS_CODE}); {_IF_TRUSTED}")
    external = _EXTERNAL_FILE.search(text)
    if external or "outside of the model archive" in text:
        where = f" ({external.group(1)})" if external else ""
        return (f"refused in safe mode: the model reads a file outside itself{where}; "
                "rnn-tui loads only self-contained models")
    return f"refused in safe mode: {first_line}"


def load_keras_model(model_version: ModelVersion | str, trust: bool = False,
                     compile: bool = True) -> Any:
    """Load a registry version's ``model.keras`` (TensorFlow is imported here).

    The file's sha256 must match the card. ``trust=False`` keeps Keras' safe mode, which
    refuses Lambda layers; unknown custom objects are always refused.
    """
    if isinstance(model_version, str):
        from rnn_tui.registry.registries import open_registries

        model_version = open_registries().resolve(model_version)
    path = model_version.file(MODEL_FILE)
    expected = model_version.card["files"].get(MODEL_FILE)
    if expected is None:
        raise DataError(f"the card of {model_version.ref} lists no {MODEL_FILE}",
                        model_version.path / "card.json")
    if sha256_file(path) != expected:
        raise DataError(
            f"{MODEL_FILE} does not match the sha256 in its card (changed or damaged after "
            "publishing); refusing to load it", path)
    return load_keras_file(path, trust=trust, compile=compile)


def describe_keras_model(model: Any) -> dict[str, Any]:
    """The card's ``layers`` and ``params`` sections, read from a built Keras model.

    >>> describe_keras_model(model)["params"]                          # doctest: +SKIP
    {'total': 1300000, 'trainable': 1300000, 'non_trainable': 0}
    """
    import numpy as np

    layers = []
    for layer in model.layers:
        try:
            output_shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):  # a layer never called symbolically
            output_shape = None
        layers.append({"name": layer.name, "type": type(layer).__name__,
                       "output_shape": output_shape, "params": int(layer.count_params()),
                       "trainable": bool(layer.trainable)})
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = int(model.count_params())
    return {"layers": layers,
            "params": {"total": total, "trainable": trainable, "non_trainable": total - trainable}}


def halve_keras_weights(path: str | Path) -> int:
    """Rewrite a saved ``.keras`` file with its float32 weights stored as float16.

    Keras casts them back to the variables' float32 when it loads the file, so the model
    computes as before with weights rounded to float16, the same weights runtime.npz holds
    when it is written with ``float16=True`` (Keras and the runtime then agree exactly).
    The file is replaced in one rename. Returns the new size in bytes.
    """
    import io
    import zipfile

    import h5py
    import numpy as np

    from rnn_tui.fileio import atomic_path

    path = Path(path)
    weights_member = "model.weights.h5"
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    weights = dict((info.filename, payload) for info, payload in members)[weights_member]
    halved = io.BytesIO()
    with h5py.File(io.BytesIO(weights), "r") as source, h5py.File(halved, "w") as target:
        def copy(name: str, item: Any) -> None:
            if isinstance(item, h5py.Dataset):
                values = item[()]
                if getattr(values, "dtype", None) == np.float32:
                    values = values.astype(np.float16)
                target.create_dataset(name, data=values)
            else:
                target.require_group(name)
            for key, value in item.attrs.items():
                target[name].attrs[key] = value

        source.visititems(copy)
        for key, value in source.attrs.items():
            target.attrs[key] = value
    with atomic_path(path) as temporary, zipfile.ZipFile(temporary, "w") as archive:
        for info, payload in members:
            archive.writestr(info, halved.getvalue() if info.filename == weights_member
                             else payload)
    return path.stat().st_size
