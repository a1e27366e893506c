"""A normalised spec -> a Keras 3 functional model, with predictable layer names.

Only the layers the TensorFlow-free runtime implements are used: Input, Embedding, Dropout,
SpatialDropout1D, SimpleRNN, LSTM, GRU, Bidirectional (concat), Conv1D, MaxPooling1D,
GlobalMaxPooling1D, GlobalAveragePooling1D, Flatten, Concatenate, Dense and Activation.

Names: the input is ``tokens`` or ``sequence``; ``embedding`` (or ``one_hot``); every other
body layer is ``<kind>_<n>``, counted per kind from 1 (``lstm_1``, ``lstm_2``, ``dropout_1``;
a Bidirectional wrapper is ``bilstm_1`` around ``lstm_1``); the head is ``output`` (plus
``output_activation`` when the activation is a separate layer).

>>> from rnn_tui.nets.spec import normalize_spec
>>> model = build_model(normalize_spec("emb:16 simplernn:8"),
...                     ModelInput.tokens(maxlen=100, vocab_size=300), task="binary")
>>> model.count_params()
5009
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_tui.errors import UserError
from rnn_tui.nets.spec import RECURRENT, return_sequences

# One-hot input is a frozen identity Embedding; past this size a learned Embedding is the
# sane choice (the identity matrix grows with the square of the vocabulary).
MAX_ONEHOT_VOCABULARY = 5000
_KERAS_RNN = {"simplernn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


@dataclass(frozen=True)
class ModelInput:
    """What the model reads: token ids (maxlen, vocab_size) or numbers (timesteps, channels)."""

    kind: str  # "tokens" or "sequence"
    length: int | None
    vocab_size: int | None = None
    channels: int | None = None

    @classmethod
    def tokens(cls, maxlen: int | None, vocab_size: int) -> ModelInput:
        return cls("tokens", maxlen, vocab_size=vocab_size)

    @classmethod
    def sequence(cls, timesteps: int | None, channels: int) -> ModelInput:
        return cls("sequence", timesteps, channels=channels)


@dataclass(frozen=True)
class Head:
    """The output layer: activation and units, and the loss that goes with it."""

    activation: str
    units: int
    separate_activation: bool = False

    @property
    def loss(self) -> str:
        return {"sigmoid": "binary_crossentropy", "softmax": "sparse_categorical_crossentropy",
                "linear": "mse"}[self.activation]


def resolve_head(head_spec: dict[str, Any], task: str, num_classes: int | None) -> Head:
    """The head for a task: sigmoid Dense(1) for binary (or softmax Dense(2) if asked),
    softmax Dense(classes) for multiclass, linear Dense(1) for regression."""
    activation = head_spec.get("activation", "auto")
    units = head_spec.get("units", "auto")
    separate = bool(head_spec.get("separate_activation", False))
    if task == "binary":
        if activation == "auto":
            activation = "softmax" if units == 2 else "sigmoid"
        expected = {"sigmoid": 1, "softmax": 2}.get(activation)
        if expected is None:
            raise UserError(f"architecture: a binary task needs a sigmoid (1 unit) or softmax "
                            f"(2 units) head, not {activation}")
    elif task == "multiclass":
        if activation not in ("auto", "softmax"):
            raise UserError(f"architecture: a multiclass task needs a softmax head, not "
                            f"{activation}")
        activation = "softmax"
        if not num_classes or num_classes < 2:
            raise UserError("architecture: a multiclass task needs the number of classes")
        expected = num_classes
    elif task == "regression":
        if activation not in ("auto", "linear"):
            raise UserError(f"architecture: a regression task needs a linear head, not "
                            f"{activation}")
        activation = "linear"
        expected = 1
    else:
        raise UserError(f"unknown task {task!r}")
    if units != "auto" and units != expected:
        raise UserError(f"architecture: a {task} {activation} head has {expected} unit(s), "
                        f"not {units}")
    return Head(activation, expected, separate)


def mask_zero_for(spec: dict[str, Any], padding: str) -> bool:
    """Whether the embedding masks id 0 (``mask_zero="auto"``).

    Masking is right for post padding (the recurrent layers then stop at each text's real end
    and stay cuDNN-eligible on a GPU); Conv1D, MaxPooling1D and Flatten cannot carry a mask,
    so models with them never mask; pre padding keeps the classic unmasked Keras behaviour.
    """
    first = spec["layers"][0]
    if first["type"] != "embedding":
        return False
    if first["mask_zero"] != "auto":
        return bool(first["mask_zero"])
    if padding != "post":
        return False
    return not any(layer["type"] in ("conv1d", "maxpool1d", "flatten")
                   for layer in spec["layers"])


def build_model(
    spec: dict[str, Any],
    model_input: ModelInput,
    *,
    task: str,
    num_classes: int | None = None,
    padding: str = "post",
    embedding_weights: np.ndarray | None = None,
    name: str = "rnn_tui_model",
) -> Any:
    """Build the Keras model of a normalised spec (see ``rnn_tui.nets.spec``).

    Args:
        spec: a normalised spec (``normalize_spec``).
        model_input: what the model reads; must match the spec's input kind.
        task: "binary", "multiclass" or "regression" (decides the head).
        num_classes: for multiclass.
        padding: how the ids are padded ("post" or "pre"); decides ``mask_zero="auto"``.
        embedding_weights: pretrained (input_dim, dim) matrix for the embedding, if any.
        name: the model's name.
    """
    from rnn_tui.backend import keras as get_keras

    keras = get_keras()
    layers_module = keras.layers
    if spec["input"] != model_input.kind:
        wanted = "token ids" if spec["input"] == "tokens" else "numeric sequences"
        given = "token ids" if model_input.kind == "tokens" else "numeric sequences"
        raise UserError(f"architecture: the spec reads {wanted} but the dataset gives {given}")
    head = resolve_head(spec["head"], task, num_classes)
    counts: Counter[str] = Counter()

    def next_name(kind: str) -> str:
        counts[kind] += 1
        return f"{kind}_{counts[kind]}"

    if model_input.kind == "tokens":
        inputs = layers_module.Input(shape=(model_input.length,), dtype="int32", name="tokens")
    else:
        inputs = layers_module.Input(shape=(model_input.length, model_input.channels),
                                     dtype="float32", name="sequence")
    tensor = inputs
    body = spec["layers"]
    for index, layer in enumerate(body):
        kind = layer["type"]
        if kind == "embedding":
            tensor = _embedding(layers_module, layer, model_input, padding, spec,
                                embedding_weights)(tensor)
        elif kind == "onehot":
            tensor = _one_hot(layers_module, model_input)(tensor)
        elif kind in RECURRENT:
            tensor = _recurrent(layers_module, layer, return_sequences(body, index),
                                next_name(kind))(tensor)
        elif kind == "conv1d":
            tensor = layers_module.Conv1D(
                layer["filters"], layer["kernel_size"], strides=layer["strides"],
                padding=layer["padding"], activation=layer["activation"],
                name=next_name("conv1d"))(tensor)
        elif kind == "maxpool1d":
            tensor = layers_module.MaxPooling1D(
                pool_size=layer["pool_size"], padding=layer["padding"],
                name=next_name("max_pooling1d"))(tensor)
        elif kind == "dropout":
            tensor = layers_module.Dropout(layer["rate"], name=next_name("dropout"))(tensor)
        elif kind == "spatial_dropout":
            tensor = layers_module.SpatialDropout1D(
                layer["rate"], name=next_name("spatial_dropout1d"))(tensor)
        elif kind == "flatten":
            tensor = layers_module.Flatten(name=next_name("flatten"))(tensor)
        elif kind == "pool":
            pooled = []
            for mode in layer["mode"].split("+"):
                if mode == "max":
                    pooled.append(layers_module.GlobalMaxPooling1D(
                        name=next_name("global_max_pooling1d"))(tensor))
                else:
                    pooled.append(layers_module.GlobalAveragePooling1D(
                        name=next_name("global_average_pooling1d"))(tensor))
            tensor = pooled[0] if len(pooled) == 1 else layers_module.Concatenate(
                name=next_name("concatenate"))(pooled)
        elif kind == "dense":
            tensor = layers_module.Dense(layer["units"], activation=layer["activation"],
                                         name=next_name("dense"))(tensor)
        else:  # normalize_spec rejects unknown kinds; this guards a hand-made spec
            raise UserError(f"architecture: unknown layer type {kind!r}")
    # The head computes in float32 even under a mixed_float16 policy (softmax/sigmoid and
    # the loss need the range); with the default float32 policy this changes nothing.
    if head.separate_activation:
        tensor = layers_module.Dense(head.units, name="output", dtype="float32")(tensor)
        outputs = layers_module.Activation(head.activation, name="output_activation",
                                           dtype="float32")(tensor)
    else:
        outputs = layers_module.Dense(head.units, activation=head.activation,
                                      name="output", dtype="float32")(tensor)
    return keras.Model(inputs, outputs, name=name)


def _embedding(layers_module, layer, model_input, padding, spec, weights):
    if model_input.kind != "tokens" or not model_input.vocab_size:
        raise UserError("architecture: an embedding needs token ids and a vocabulary size")
    input_dim = model_input.vocab_size if layer["input_dim"] == "auto" else layer["input_dim"]
    if input_dim < model_input.vocab_size:
        raise UserError(f"architecture: embedding input_dim {input_dim} is smaller than the "
                        f"vocabulary ({model_input.vocab_size} ids)")
    options: dict[str, Any] = {}
    if weights is not None:
        if weights.shape != (input_dim, layer["dim"]):
            raise UserError(f"architecture: pretrained matrix has shape {weights.shape}, the "
                            f"embedding needs ({input_dim}, {layer['dim']})")
        options["weights"] = [np.asarray(weights, dtype=np.float32)]
    return layers_module.Embedding(
        input_dim, layer["dim"], mask_zero=mask_zero_for(spec, padding),
        trainable=layer["trainable"], name="embedding", **options)


def _one_hot(layers_module, model_input):
    depth = model_input.vocab_size
    if model_input.kind != "tokens" or not depth:
        raise UserError("architecture: one-hot input needs token ids and a vocabulary size")
    if depth > MAX_ONEHOT_VOCABULARY:
        raise UserError(f"architecture: one-hot input over {depth:,} words would hold a "
                        f"{depth:,} x {depth:,} matrix; use at most "
                        f"{MAX_ONEHOT_VOCABULARY:,} words (--num-words) or an embedding")
    # keras.utils.to_categorical(ids): id 0 (padding) is a real one-hot row, as in the tutorial.
    return layers_module.Embedding(
        depth, depth, embeddings_initializer="identity", trainable=False, name="one_hot")


def _recurrent(layers_module, layer, sequences, name):
    kind = layer["type"]
    cell_class = getattr(layers_module, _KERAS_RNN[kind])
    recurrent = cell_class(layer["units"], dropout=layer["dropout"],
                           recurrent_dropout=layer["recurrent_dropout"],
                           return_sequences=sequences, name=name)
    if not layer["bidirectional"]:
        return recurrent
    return layers_module.Bidirectional(recurrent, merge_mode="concat", name=f"bi{name}")


def generic_kernel_reasons(spec: dict[str, Any], padding: str) -> list[str]:
    """Why a recurrent layer of this spec cannot use the fused cuDNN kernel on a GPU.

    Keras picks cuDNN for LSTM/GRU only with tanh/sigmoid activations, no recurrent dropout,
    unroll off, and masks that are right-padded; SimpleRNN never has a cuDNN kernel.
    """
    reasons = []
    masked = mask_zero_for(spec, padding) if spec["layers"][0]["type"] == "embedding" else False
    for index, layer in enumerate(spec["layers"], start=1):
        kind = layer["type"]
        if kind not in RECURRENT:
            continue
        label = f"layer {index} ({kind})"
        if kind == "simplernn":
            reasons.append(f"{label}: SimpleRNN has no cuDNN kernel (LSTM and GRU do)")
        elif layer["recurrent_dropout"] > 0:
            reasons.append(f"{label}: recurrent_dropout {layer['recurrent_dropout']:g} forces "
                           "the generic (slow) kernel; use dropout instead")
        elif masked and padding == "pre":
            reasons.append(f"{label}: a mask with left (pre) padding forces the generic "
                           "kernel; pad post")
    return reasons
