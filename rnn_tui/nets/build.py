"""A normalised spec -> a Keras 3 functional model, with predictable layer names.

Each spec layer is built by its kind's module (``rnn_tui.nets.layers``), from the layers
the TensorFlow-free runtime implements (``rnn_tui.infer.layers``): Input, Embedding,
Dropout, SpatialDropout1D, SimpleRNN, LSTM, GRU, Bidirectional (concat), Conv1D,
MaxPooling1D, GlobalMaxPooling1D, GlobalAveragePooling1D, Flatten, Concatenate, Dense,
Activation, and for ``transformer`` MultiHeadAttention, Add and LayerNormalization
(``transformer_<n>_attention``, ``_add_1``, ``_norm_1``, ``_ff_1`` ...).

Names: the input is ``tokens`` or ``sequence``; ``embedding`` (or ``one_hot``); every other
body layer is ``<kind>_<n>``, counted per kind from 1 (``lstm_1``, ``lstm_2``, ``dropout_1``;
a Bidirectional wrapper is ``bilstm_1`` around ``lstm_1``); the head is ``output`` (plus
``output_activation`` when the activation is a separate layer). With n-gram features there
is one more input per order (``ngrams2``), its embedding (``embedding_ngrams2``) and the
``concatenate_streams`` that joins the embeddings (a concatenation of pools is then
``concatenate_pools_<n>``: Keras names the ops that merge the streams' masks
``concatenate_<n>`` itself).

A pool with ``last`` (``pool:max+average+last``) builds its recurrent layer with
``return_sequences=True`` and ``return_state=True`` and concatenates the pools with the
final state ``h`` (with a mask, the state after the last real token), in the order max,
average, last.

>>> from rnn_tui.nets.spec import normalize_spec
>>> model = build_model(normalize_spec("emb:16 simplernn:8"),
...                     ModelInput.tokens(maxlen=100, vocab_size=300), task="binary")
>>> model.count_params()
5009
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_tui.errors import UserError
from rnn_tui.nets.layers import KINDS
from rnn_tui.nets.layers.base import SEQUENCE, VECTOR, BuildContext
from rnn_tui.nets.layers.embedding import MAX_ONEHOT_VOCABULARY
from rnn_tui.nets.spec import RECURRENT, ngram_assignment, return_sequences

__all__ = ["MAX_ONEHOT_VOCABULARY", "Head", "ModelInput", "build_model",
           "dynamic_padding_exact", "generic_kernel_reasons", "mask_zero_for", "resolve_head"]


@dataclass(frozen=True)
class ModelInput:
    """What the model reads: token ids (maxlen, vocab_size) or numbers (timesteps, channels)."""

    kind: str  # "tokens" or "sequence"
    length: int | None
    vocab_size: int | None = None
    channels: int | None = None
    ngrams: tuple[tuple[int, int], ...] = ()  # (n, vocabulary size) of each n-gram stream

    @classmethod
    def tokens(cls, maxlen: int | None, vocab_size: int,
               ngrams: tuple[tuple[int, int], ...] = ()) -> ModelInput:
        return cls("tokens", maxlen, vocab_size=vocab_size, ngrams=tuple(ngrams))

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
    return all(KINDS[layer["type"]].carries_mask for layer in spec["layers"])


def build_model(
    spec: dict[str, Any],
    model_input: ModelInput,
    *,
    task: str,
    num_classes: int | None = None,
    padding: str = "post",
    embedding_weights: np.ndarray | None = None,
    name: str = "rnn_tui_model",
    vocabulary: Any = None,
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
        vocabulary: the training vocabulary, for layers that read its statistics
            (``bag:tfidf``'s document frequencies).
    """
    from rnn_tui.backend import keras as get_keras

    keras = get_keras()
    layers_module = keras.layers
    if spec["input"] != model_input.kind:
        wanted = "token ids" if spec["input"] == "tokens" else "numeric sequences"
        given = "token ids" if model_input.kind == "tokens" else "numeric sequences"
        raise UserError(f"architecture: the spec reads {wanted} but the dataset gives {given}")
    head = resolve_head(spec["head"], task, num_classes)
    if model_input.kind == "tokens":
        inputs = layers_module.Input(shape=(model_input.length,), dtype="int32", name="tokens")
    else:
        inputs = layers_module.Input(shape=(model_input.length, model_input.channels),
                                     dtype="float32", name="sequence")
    context = BuildContext(layers_module, spec, model_input, padding, embedding_weights,
                           tensor=inputs, mask_zero=mask_zero_for(spec, padding),
                           vocabulary=vocabulary)
    # whether each recurrent layer returns its whole sequence (the next layer reads one)
    context.sequences = [return_sequences(spec["layers"], index)
                         for index in range(len(spec["layers"]))]
    if spec["input"] == "tokens":
        context.assignment = ngram_assignment(spec, [n for n, _ in model_input.ngrams])
        # one Input per n-gram stream, read by the ngram-emb items and/or the linear channel
        context.stream_inputs = {n: layers_module.Input(shape=(model_input.length,),
                                                        dtype="int32", name=f"ngrams{n}")
                                 for n, _ in model_input.ngrams}
    stream_inputs = context.stream_inputs
    ngram_inputs = list(stream_inputs.values())
    for index, layer in enumerate(spec["layers"]):
        kind = KINDS.get(layer["type"])
        if kind is None:  # normalize_spec rejects unknown kinds; this guards a hand-made spec
            raise UserError(f"architecture: unknown layer type {layer['type']!r}")
        if kind.build is not None:  # (ngram-emb is built with the embedding)
            kind.build(context, layer, index)
    tensor = context.tensor
    # The head computes in float32 even under a mixed_float16 policy (softmax/sigmoid and
    # the loss need the range); with the default float32 policy this changes nothing.
    if spec.get("linear"):
        outputs = _with_linear_channel(layers_module, tensor, head, inputs, stream_inputs,
                                       model_input)
    elif head.separate_activation:
        tensor = layers_module.Dense(head.units, name="output", dtype="float32")(tensor)
        outputs = layers_module.Activation(head.activation, name="output_activation",
                                           dtype="float32")(tensor)
    else:
        outputs = layers_module.Dense(head.units, activation=head.activation,
                                      name="output", dtype="float32")(tensor)
    return keras.Model([inputs, *ngram_inputs] if ngram_inputs else inputs, outputs, name=name)


def _with_linear_channel(layers_module, features, head, tokens, stream_inputs, model_input):
    """The network's logit plus a linear n-gram channel's, through the sigmoid.

    Every stream gets a one-wide Embedding averaged over the text's positions (pads masked),
    so the channel's logit is a linear model on each id's share of the text. Its weights
    and the mixing weight are set by ``rnn_tui.train.linear`` after the network is fitted;
    until then the mixing weight is 0, so fitting trains the network alone (no gradient
    reaches the frozen channel).
    """
    if head.activation != "sigmoid" or head.units != 1:
        raise UserError("architecture: the linear channel needs a binary task with a sigmoid "
                        "head")
    recurrent = layers_module.Dense(1, name="network_logit", dtype="float32")(features)
    streams = [("tokens", tokens, model_input.vocab_size)] + [
        (f"ngrams{n}", stream_inputs[n], size) for n, size in model_input.ngrams]
    averages = [layers_module.GlobalAveragePooling1D(name=f"linear_average_{name}")(
        layers_module.Embedding(size, 1, mask_zero=True, trainable=False,
                                embeddings_initializer="zeros", name=f"linear_{name}")(ids))
        for name, ids, size in streams]
    pooled = averages[0] if len(averages) == 1 else layers_module.Concatenate(
        name="linear_streams")(averages)
    linear = layers_module.Dense(1, trainable=False, kernel_initializer="ones",
                                 name="linear_logit", dtype="float32")(pooled)
    logits = layers_module.Concatenate(name="logits")([recurrent, linear])
    mixing = layers_module.Dense(1, activation="sigmoid", trainable=False, name="output",
                                 dtype="float32")
    outputs = mixing(logits)
    mixing.set_weights([np.array([[1.0], [0.0]], np.float32), np.zeros(1, np.float32)])
    return outputs


def dynamic_padding_exact(spec: dict[str, Any], padding: str) -> tuple[bool, str]:
    """Whether padding each batch only to its longest text gives exactly the results of
    padding every text to maxlen, and why (not).

    True for token models padded "post" whose embedding masks id 0, where every max pool
    reads a unidirectional recurrent layer and no Dropout layer sits on a sequence: the pads
    then change nothing (recurrent states stop at the last real token and their outputs
    repeat the last real output, which a max already holds; average pools and the last state
    leave masked steps out), and every random draw in training has a shape without the time
    axis (SpatialDropout1D, the recurrent layers' own dropout, Dropout on vectors).

    >>> from rnn_tui.nets.spec import normalize_spec
    >>> dynamic_padding_exact(normalize_spec("emb:8 gru:4 pool:max+average"), "post")[0]
    True
    """
    first = spec["layers"][0]
    if spec["input"] != "tokens" or first["type"] != "embedding":
        return False, "the model does not read masked token ids"
    if padding != "post":
        return False, "pre padding: the pads come before the text"
    if not mask_zero_for(spec, padding):
        return False, "the embedding does not mask the pads (mask=false, or Conv1D, " \
                      "MaxPooling1D or Flatten in the model)"
    layers = spec["layers"]
    for index, layer in enumerate(layers):
        if layer["type"] == "dropout" and _reads_sequence(layers, index):
            return False, (f"layer {index + 1} (dropout) draws a random mask per padded "
                           "position, so its draws depend on the padded width (use "
                           "spatial-dropout, or the recurrent layer's dropout=)")
        if layer["type"] != "pool" or "max" not in layer["mode"].split("+"):
            continue
        source = next((earlier for earlier in reversed(layers[:index])
                       if earlier["type"] not in ("dropout", "spatial_dropout")), None)
        if source is None or source["type"] not in RECURRENT or source["bidirectional"]:
            return False, (f"layer {index + 1} takes the max over positions whose padded "
                           "values are not the text's own (a max pool after an embedding or "
                           "a Bidirectional layer)")
    return True, "post padding with a mask: pads change nothing"


def _reads_sequence(layers: list[dict[str, Any]], index: int) -> bool:
    """Whether layer ``index`` gets a (batch, time, features) input."""
    for position in range(index - 1, -1, -1):
        kind = layers[position]["type"]
        if kind in RECURRENT:
            return return_sequences(layers, position)
        gives = KINDS[kind].gives
        if gives == VECTOR:
            return False
        if gives == SEQUENCE:
            return True
    return True


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
