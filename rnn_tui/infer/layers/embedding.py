"""Embedding: token ids -> rows of a table (kept in lookup form: rows are gathered late).

Keras attaches a mask when ``mask_zero``; with several input streams (tokens, n-grams) each
stream has its own Embedding, reading its column of the ids.
"""

from __future__ import annotations

from typing import Any

from rnn_tui.infer.layers.base import CAUSAL, RuntimeOp, numpy_weights
from rnn_tui.infer.rows import RowSource, StreamRows
from rnn_tui.infer.values import POINTWISE, Value

KERAS_LAYERS = ("Embedding",)


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    if not isinstance(layer, keras.layers.Embedding):
        return None
    return ({"op": "embedding", "config": {
        "input_dim": int(layer.input_dim), "output_dim": int(layer.output_dim),
        "mask_zero": bool(layer.mask_zero)}}, {"embeddings": numpy_weights(layer.embeddings)})


def prepare(runtime, node, named, lookup, widths) -> None:
    table = named["embeddings"]
    rows = RowSource.from_table(table)
    node.params["table_rows"] = rows.size
    if runtime.stream_count > 1:
        stream = runtime.input_tensors.index(node.inputs[0])
        node.params["stream"] = stream
        rows = StreamRows(rows, stream)
    node.params["rows"] = rows
    lookup[node.output] = rows
    widths[node.output] = table.shape[1]


def evaluate(runtime, node, inputs, context, record) -> Value:
    first = inputs[0]
    ids = first.data if "stream" not in node.params else context.ids
    mask = first.data != 0 if node.config.get("mask_zero") else None
    return Value(ids=ids, rows=node.params["rows"], mask=mask, share=POINTWISE)


def _mask(config, incoming, node) -> bool:
    return bool(config.get("mask_zero"))


OPS = (RuntimeOp("embedding", prepare, evaluate, required=("embeddings",), mask=_mask,
                 stream=CAUSAL, reads_ids=True),)
