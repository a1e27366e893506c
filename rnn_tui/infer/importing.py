"""Bringing an outside Keras model into the registry: ``models import model.keras|.h5``.

The model is loaded (safe mode unless trusted), its task, labels, input and layers are read
into a card, and ``runtime.npz`` is exported so ``predict`` and the TUI can use it without
TensorFlow. This sits above the registry (it publishes there) and beside the exporter.

>>> version = import_keras(open_registries().user, "naver", "naver.h5")  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rnn_tui.errors import DataError, UserError
from rnn_tui.infer.export import export_runtime
from rnn_tui.registry.card import TASKS, utc_now
from rnn_tui.registry.keras_io import (
    MODEL_FILE,
    RUNTIME_FILE,
    VOCABULARY_FILE,
    describe_keras_model,
    load_keras_file,
)
from rnn_tui.registry.names import check_name
from rnn_tui.registry.folder import Registry
from rnn_tui.registry.versions import ModelVersion
from rnn_tui.text.foreign import read_vocabulary

RNN_LAYERS = {"SimpleRNN": "simplernn", "LSTM": "lstm", "GRU": "gru"}


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
    TensorFlow-free runtime when it supports every layer (else the card's ``notes`` say
    why). ``task``/``labels`` default to what the output layer implies. A vocabulary
    (rnn-tui JSON, Keras ``Tokenizer.to_json()`` or a plain ``{word: id}`` index, whose OOV
    token is ``oov_token``) is checked against the Embedding's size and stored beside the
    model. Padding defaults to Keras' ``"pre"``.

    >>> import_keras(registry, "naver", "naver_review.h5", "vocab.json",   # doctest: +SKIP
    ...              labels=["negative", "positive"], language="ko").ref
    'naver:1'
    """
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
        model = load_keras_file(model_path, trust=trust, compile=True)
    except DataError:
        # Old optimizers in legacy files may not compile under Keras 3; the weights still do.
        model = load_keras_file(model_path, trust=trust, compile=False)
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
        card["runtime"] = dict(export_runtime(model, path))
    except (UserError, ValueError, TypeError, KeyError) as error:
        path.unlink(missing_ok=True)
        return str(error)
    return None


