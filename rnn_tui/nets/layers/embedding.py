"""The token inputs: ``emb`` (Embedding), ``ngram-emb`` (one Embedding per n-gram stream,
concatenated with the word embedding at each position) and ``onehot`` (a frozen identity
Embedding, as the tutorials' ``to_categorical``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.errors import UserError
from rnn_tui.nets.layers.base import (
    REQUIRED,
    SEQUENCE,
    BuildContext,
    LayerKind,
    as_int,
    spec_error,
)

# One-hot input is a frozen identity Embedding; past this size a learned Embedding is the
# sane choice (the identity matrix grows with the square of the vocabulary).
MAX_ONEHOT_VOCABULARY = 5000


def build_embedding(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    model_input = context.model_input
    if model_input.kind != "tokens" or not model_input.vocab_size:
        raise UserError("architecture: an embedding needs token ids and a vocabulary size")
    input_dim = model_input.vocab_size if layer["input_dim"] == "auto" else layer["input_dim"]
    if input_dim < model_input.vocab_size:
        raise UserError(f"architecture: embedding input_dim {input_dim} is smaller than the "
                        f"vocabulary ({model_input.vocab_size} ids)")
    options: dict[str, Any] = {}
    weights = context.embedding_weights
    if weights is not None:
        if weights.shape != (input_dim, layer["dim"]):
            raise UserError(f"architecture: pretrained matrix has shape {weights.shape}, the "
                            f"embedding needs ({input_dim}, {layer['dim']})")
        options["weights"] = [np.asarray(weights, dtype=np.float32)]
    context.tensor = context.layers_module.Embedding(
        input_dim, layer["dim"], mask_zero=context.mask_zero,
        trainable=layer["trainable"], name="embedding", **options)(context.tensor)
    if context.assignment:
        context.tensor = _ngram_streams(context)


def _ngram_streams(context: BuildContext) -> Any:
    """An Embedding per n-gram order, concatenated after the word embedding."""
    layers_module = context.layers_module
    sizes = dict(context.model_input.ngrams)
    tensors = [context.tensor]
    for n, index in context.assignment.items():
        layer = context.body[index]
        input_dim = sizes[n] if layer["input_dim"] == "auto" else layer["input_dim"]
        if input_dim < sizes[n]:
            raise UserError(f"architecture: ngram-emb input_dim {input_dim} is smaller than the "
                            f"{n}-gram vocabulary ({sizes[n]} ids)")
        tensors.append(layers_module.Embedding(
            input_dim, layer["dim"], mask_zero=context.mask_zero, trainable=layer["trainable"],
            name=f"embedding_ngrams{n}")(context.stream_inputs[n]))
    return layers_module.Concatenate(name="concatenate_streams")(tensors)


def build_onehot(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    model_input = context.model_input
    depth = model_input.vocab_size
    if model_input.kind != "tokens" or not depth:
        raise UserError("architecture: one-hot input needs token ids and a vocabulary size")
    if depth > MAX_ONEHOT_VOCABULARY:
        raise UserError(f"architecture: one-hot input over {depth:,} words would hold a "
                        f"{depth:,} x {depth:,} matrix; use at most "
                        f"{MAX_ONEHOT_VOCABULARY:,} words (--num-words) or an embedding")
    # keras.utils.to_categorical(ids): id 0 (padding) is a real one-hot row, as in the tutorial.
    context.tensor = context.layers_module.Embedding(
        depth, depth, embeddings_initializer="identity", trainable=False,
        name="one_hot")(context.tensor)


def _first(layers: list[dict[str, Any]], index: int) -> None:
    if index != 0:
        kind = layers[index]["type"]
        raise spec_error(f"{kind} must be the first layer", f"layer {index + 1} ({kind})")


def _after_embedding(layers: list[dict[str, Any]], index: int) -> None:
    where = f"layer {index + 1} (ngram_embedding)"
    if layers[0]["type"] != "embedding" or any(
            other["type"] != "ngram_embedding" for other in layers[1:index]):
        raise spec_error("an n-gram embedding comes right after the word embedding "
                         "(emb:64 ngram-emb:32 ...)", where)
    layer = layers[index]
    if layer["n"] != "auto":
        layer["n"] = as_int(layer["n"], "n", where, 2)


KINDS = (
    LayerKind(
        "embedding",
        {"dim": REQUIRED, "mask_zero": "auto", "input_dim": "auto", "vectors": None,
         "vectors_format": "auto", "trainable": True},
        ("dim",), build_embedding, aliases=("emb", "embed"), short="emb",
        help="""\
  emb:DIM             Embedding (keys: mask=auto|true|false, vectors=PATH, trainable=false,
                      format=auto|word2vec|word2vec-binary|glove, input_dim=N)""",
        is_input=True, gives=SEQUENCE, check=_first),
    LayerKind(
        "ngram_embedding", {"dim": REQUIRED, "n": "auto", "input_dim": "auto",
                            "trainable": True},
        ("dim",), None,  # built with the embedding: every stream's Embedding, concatenated
        aliases=("ngram-emb", "ngram_emb", "ngram-embedding", "ngramemb"), short="ngram-emb",
        help="""\
  ngram-emb:DIM       Embedding of the n-gram stream(s) (--ngrams N), right after emb;
                      concatenated with the word embedding at each position (keys: n=N
                      for one order only, input_dim=N, trainable=false)""",
        is_input=True, gives=SEQUENCE, check=_after_embedding),
    LayerKind(
        "onehot", {}, (), build_onehot, aliases=("one-hot", "one_hot"),
        help="  onehot              one-hot token input (a frozen identity Embedding)",
        is_input=True, gives=SEQUENCE, check=_first),
)
