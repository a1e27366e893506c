"""Keras at the registry's edge: safe loading, importing outside models, card sections.

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
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnn_tui.errors import DataError, UserError
from rnn_tui.registry.card import TASKS, sha256_file, utc_now

if TYPE_CHECKING:
    from rnn_tui.registry.store import ModelVersion, Registry

MODEL_FILE = "model.keras"
VOCABULARY_FILE = "vocabulary.json"
RUNTIME_FILE = "runtime.npz"
RNN_LAYERS = {"SimpleRNN": "simplernn", "LSTM": "lstm", "GRU": "gru"}
_UNKNOWN_CLASS = re.compile(r"Could not locate (?:class|function) '([^']+)'")


def _load(path: Path, *, trust: bool, compile: bool = True) -> Any:
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
    return _load(path, trust=trust, compile=compile)


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


def _rnn_arch(model: Any) -> str | None:
    kinds = set()
    for layer in model.layers:
        inner = getattr(layer, "forward_layer", None) or getattr(layer, "layer", None)
        for candidate in (layer, inner):
            name = type(candidate).__name__ if candidate is not None else None
            if name in RNN_LAYERS:
                kinds.add(RNN_LAYERS[name])
    if not kinds:
        return None
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _output_activation(model: Any) -> str | None:
    from rnn_tui.backend import keras

    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    if activation is None:
        return None
    try:
        name = keras().activations.serialize(activation)
    except (ValueError, TypeError):
        name = getattr(activation, "__name__", None)
    return name if isinstance(name, str) else getattr(activation, "__name__", None)


def infer_task(model: Any, task: str | None = None, labels: Sequence[str] | None = None
               ) -> tuple[str, list[str]]:
    """The task and label names from the output layer, checked against what the caller says.

    One sigmoid unit -> binary; N softmax units -> multiclass (``class_0`` ...); one linear
    unit -> regression. Labels the caller gives must fit the number of outputs.
    """
    shape = tuple(model.outputs[0].shape)
    units = shape[-1] if len(shape) == 2 else None
    activation = _output_activation(model)
    if task is None:
        if units == 1 and activation == "sigmoid":
            task = "binary"
        elif units is not None and units >= 2 and activation == "softmax":
            task = "multiclass"
        elif units == 1 and activation == "linear":
            task = "regression"
        else:
            raise UserError(
                f"cannot tell the task from the output (shape {shape}, activation "
                f"{activation}); pass it: --task {'|'.join(TASKS)}")
    if task not in TASKS:
        raise UserError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    if units is None:
        raise UserError(f"the model's output has shape {shape}; rnn-tui needs (batch, units)")
    if task == "binary" and units != 1:
        raise UserError(f"a binary model has 1 output unit; this one has {units}")
    if task == "multiclass" and units < 2:
        raise UserError(f"a multiclass model has 2 or more output units; this one has {units}")
    if task == "regression" and units != 1:
        raise UserError(f"a regression model has 1 output unit; this one has {units}")
    expected = {"binary": 2, "multiclass": units, "regression": 0}[task]
    if labels:
        labels = [str(label) for label in labels]
        if len(labels) != expected:
            raise UserError(f"a {task} model with {units} output unit(s) needs {expected} "
                            f"labels; got {len(labels)}: {', '.join(labels)}")
        if len(set(labels)) != len(labels):
            raise UserError(f"labels must differ: {', '.join(labels)}")
        return task, labels
    return task, [f"class_{i}" for i in range(expected)]


def _input_section(model: Any, maxlen: int | None, padding: str, truncating: str
                   ) -> tuple[dict[str, Any], Any]:
    """The card's ``input`` section, and the Embedding layer of a text model (or None)."""
    shape = tuple(model.inputs[0].shape)
    first = next((layer for layer in model.layers if type(layer).__name__ != "InputLayer"),
                 None)
    if type(first).__name__ == "Embedding":
        if len(shape) != 2:
            raise UserError(f"a text model takes (batch, tokens); this one takes {shape}")
        fixed = shape[1]
        if maxlen is not None and fixed is not None and maxlen != fixed:
            raise UserError(f"--maxlen {maxlen} differs from the model's input length {fixed}")
        if padding not in ("pre", "post") or truncating not in ("pre", "post"):
            raise UserError("padding and truncating are 'pre' or 'post'")
        return {"kind": "text", "maxlen": fixed or maxlen, "padding": padding,
                "truncating": truncating}, first
    if len(shape) == 3 and shape[2] is not None:
        return {"kind": "sequence", "timesteps": shape[1], "channels": shape[2]}, None
    raise UserError(f"unsupported model input {shape}: rnn-tui takes token ids (an Embedding "
                    "first) or (batch, timesteps, channels) sequences")


def import_keras(registry: Registry, name: str, model_path: str | Path,
                 vocabulary_path: str | Path | None = None, *, task: str | None = None,
                 labels: Sequence[str] | None = None, language: str | None = None,
                 maxlen: int | None = None, padding: str = "pre", truncating: str = "pre",
                 dataset: str | None = None, trust: bool = False,
                 aliases: Iterable[str] = (), tags: Iterable[str] = (),
                 oov_token: str | None = None) -> ModelVersion:
    """Publish a ``.keras`` file or a legacy ``.h5`` model (as the tutorials save them).

    The model is loaded (safe mode unless ``trust``) to read its layers, parameters, input
    and output; an ``.h5`` is re-saved as ``model.keras``. ``runtime.npz`` is exported for the
    TensorFlow-free runtime when it supports every layer (else the card's ``notes`` say why). ``task``/``labels`` default to
    what the output layer implies. A vocabulary (rnn-tui JSON, Keras ``Tokenizer.to_json()``
    or a plain ``{word: id}`` index, whose OOV token is ``oov_token``) is checked against the
    Embedding's size and stored beside the model. Padding defaults to Keras' ``"pre"``.

    >>> registry.import_keras("naver", "naver_review.h5", "vocab.json",   # doctest: +SKIP
    ...                       labels=["negative", "positive"], language="ko").ref
    'naver:1'
    """
    from rnn_tui.registry.names import check_name
    from rnn_tui.text.foreign import read_vocabulary

    check_name(name)
    model_path = Path(model_path).expanduser()
    if not model_path.is_file():
        raise DataError("model file not found", model_path)
    suffix = model_path.suffix.lower()
    if suffix not in (".keras", ".h5", ".hdf5"):
        raise UserError(f"{model_path}: expected a .keras or .h5 model file")
    vocabulary = vocabulary_kind = None
    if vocabulary_path is not None:
        vocabulary, vocabulary_kind = read_vocabulary(vocabulary_path, oov_token=oov_token)

    try:
        model = _load(model_path, trust=trust, compile=True)
    except DataError:
        # Old optimizers in legacy files may not compile under Keras 3; the weights still do.
        model = _load(model_path, trust=trust, compile=False)
    task, labels = infer_task(model, task, labels)
    model_input, embedding = _input_section(model, maxlen, padding, truncating)
    card: dict[str, Any] = {"task": task, "labels": labels, "language": language,
                            "input": model_input}
    if model_input["kind"] == "text":
        input_dim = int(embedding.input_dim)
        if vocabulary is not None:
            if vocabulary.size > input_dim:
                raise DataError(f"the vocabulary has {vocabulary.size} ids but the model's "
                                f"Embedding takes only {input_dim}", vocabulary_path)
            card["vocabulary"] = {**vocabulary.config(), "size": vocabulary.size,
                                  "embedding_input_dim": input_dim}
        else:
            card["vocabulary"] = None
    elif vocabulary is not None:
        raise UserError("a sequence model (no Embedding) takes no vocabulary")
    card["dataset"] = {"name": dataset} if dataset else None
    card["architecture"] = {"arch": _rnn_arch(model), "preset": None, "spec": None}
    card.update(describe_keras_model(model))
    card["imported"] = {"file": model_path.name, "format": suffix.lstrip("."), "at": utc_now()}
    if vocabulary is not None:
        card["imported"]["vocabulary"] = {"file": Path(vocabulary_path).name,
                                          "kind": vocabulary_kind}

    with registry.staging(name) as stage:
        # (the model file was read whole above: what fails here is writing the registry)
        with registry.writing():
            if suffix == ".keras":
                shutil.copyfile(model_path, stage.path / MODEL_FILE)
            else:
                model.save(stage.path / MODEL_FILE)
            if vocabulary is not None:
                vocabulary.save(stage.path / VOCABULARY_FILE)
        problem = _export_runtime(model, stage.path / RUNTIME_FILE, card)
        if problem:
            card["notes"] = [f"{RUNTIME_FILE} not written: {problem}"]
        return stage.publish(card, aliases=aliases, tags=tags)


def _export_runtime(model: Any, path: Path, card: dict[str, Any]) -> str | None:
    """Write the TensorFlow-free runtime's weights, as training does; the reason if not.

    A model the runtime cannot reproduce (a Lambda layer, say) is still imported: Keras can
    load it, only ``predict`` and the TUI cannot use it.
    """
    try:
        from rnn_tui.infer.export import export_runtime
    except ImportError:
        return "rnn_tui.infer.export is not available in this installation"
    try:
        card["runtime"] = dict(export_runtime(model, path))
    except (UserError, ValueError, TypeError, KeyError) as error:
        path.unlink(missing_ok=True)
        return str(error)
    return None


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
