"""The bag of words (``nets/layers/bag.py``): Keras' IntegerLookup over the ids 1..size-1
with the pad id 0 as its mask token, in multi_hot, count or tf_idf mode, as a vector of
counts per id (column 0, out of vocabulary, stays empty: the runtime's ids are all below
the size). A bag has no order to stream along: every update recomputes it (cheaply).

``bag:freq`` and ``bag:tfidf`` are this node's counts followed by ``math`` nodes
(``arithmetic.py``). Keras' own ``tf_idf`` mode (count x idf) is what rnn-tui's ``bag:tfidf``
built before it followed the tutorials' formula; models made so, and imported ones, still
export and run here."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.infer.layers.base import RuntimeOp, UnsupportedModelError
from rnn_tui.infer.values import Value

KERAS_LAYERS = ("IntegerLookup",)
_MODES = ("multi_hot", "count", "tf_idf")


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    if type(layer).__name__ != "IntegerLookup":
        return None
    size = int(layer.vocabulary_size())
    vocabulary = [int(item) for item in layer.get_vocabulary()]
    expected = [-1, *range(1, size)]  # the OOV token, then the ids themselves
    if config.get("invert") or config.get("mask_token") != 0 \
            or config.get("num_oov_indices") != 1 or vocabulary != expected \
            or config.get("output_mode") not in _MODES or config.get("sparse") \
            or config.get("pad_to_max_tokens"):
        raise UnsupportedModelError(
            f"layer {layer.name!r}: IntegerLookup is supported as rnn-tui builds it (the ids "
            "1..N themselves, mask token 0, one OOV index, multi_hot/count/tf_idf)")
    named = {}
    if config["output_mode"] == "tf_idf":
        from rnn_tui.backend import keras as get_keras

        named["idf"] = np.asarray(get_keras().ops.convert_to_numpy(layer.idf_weights_const),
                                  np.float32)
    return {"op": "bag", "config": {"size": size, "mode": config["output_mode"]}}, named


def prepare(runtime, node, named, lookup, widths) -> None:
    node.params["table_rows"] = node.config["size"]  # the ids it takes: 0..size-1
    node.params["idf"] = named.get("idf")
    widths[node.output] = node.config["size"]


def evaluate(runtime, node, inputs, context, record) -> Value:
    ids = np.asarray(inputs[0].data, np.int64)
    rows, size = len(ids), node.config["size"]
    offsets = ids + (np.arange(rows, dtype=np.int64) * size)[:, None]
    counts = np.bincount(offsets.ravel(), minlength=rows * size).reshape(rows, size)
    counts[:, 0] = 0  # id 0 is the pad (Keras' mask token): never counted
    mode = node.config["mode"]
    if mode == "multi_hot":
        return Value(data=(counts > 0).astype(np.float32))
    data = counts.astype(np.float32)
    if mode == "tf_idf":
        data *= node.params["idf"]
    return Value(data=data)


def _whole_text(node: dict[str, Any]) -> str:
    return (f"layer {node['name']!r} (a bag of words) reads the whole text at once: every "
            "update recomputes it")


OPS = (RuntimeOp("bag", prepare, evaluate, optional=("idf",), reads_ids=True,
                 stream_problem=_whole_text),)
