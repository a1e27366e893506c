"""Pooling over time (GlobalMaxPooling1D, GlobalAveragePooling1D) and Flatten.

The max ignores the mask, as Keras' does; the average leaves masked steps out. Streaming
keeps a running max / sum per position for both pools; Flatten weighs every position
separately, so a text through it cannot stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.infer.layers.base import RECOMPUTE, REDUCER, RuntimeOp, channels_last
from rnn_tui.infer.values import Value

KERAS_LAYERS = ("GlobalMaxPooling1D", "GlobalAveragePooling1D", "Flatten")
_OPS = {"GlobalMaxPooling1D": "global_max_pooling1d",
        "GlobalAveragePooling1D": "global_average_pooling1d"}


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    kind = type(layer).__name__
    if kind in _OPS:
        channels_last(config, layer)
        return {"op": _OPS[kind], "config": {"keepdims": bool(config.get("keepdims", False))}}, {}
    if kind == "Flatten":
        channels_last(config, layer)
        return {"op": "flatten", "config": {}}, {}
    return None


def prepare_pool(runtime, node, named, lookup, widths) -> None:
    widths[node.output] = widths.get(node.inputs[0])


def evaluate_max(runtime, node, inputs, context, record) -> Value:
    return Value(data=np.max(inputs[0].materialize(), axis=1,
                             keepdims=bool(node.config.get("keepdims"))))


def evaluate_average(runtime, node, inputs, context, record) -> Value:
    first = inputs[0]
    data = first.materialize()
    keepdims = bool(node.config.get("keepdims"))
    if first.mask is None:
        return Value(data=np.mean(data, axis=1, keepdims=keepdims, dtype=np.float32))
    weights = first.mask[:, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.sum(np.where(weights, data, np.float32(0)), axis=1, keepdims=keepdims)
        count = np.sum(weights, axis=1, keepdims=keepdims, dtype=np.float32)
        return Value(data=(total / count).astype(np.float32, copy=False))


def prepare_flatten(runtime, node, named, lookup, widths) -> None:
    steps = node.config.get("steps")
    in_width = widths.get(node.inputs[0])
    widths[node.output] = in_width * steps if steps and in_width else 0


def evaluate_flatten(runtime, node, inputs, context, record) -> Value:
    data = inputs[0].materialize()
    return Value(data=data.reshape(len(data), -1))


def _keepdims(node: dict[str, Any]) -> str | None:
    if node.get("config", {}).get("keepdims"):
        return f"layer {node['name']!r} keeps the steps axis"
    return None


def _flatten(node: dict[str, Any]) -> str:
    return (f"layer {node['name']!r} (Flatten) weighs every position separately: every "
            "update recomputes the text")


OPS = (
    RuntimeOp("global_max_pooling1d", prepare_pool, evaluate_max, stream=REDUCER,
              stream_problem=_keepdims),
    RuntimeOp("global_average_pooling1d", prepare_pool, evaluate_average, stream=REDUCER,
              stream_problem=_keepdims),
    RuntimeOp("flatten", prepare_flatten, evaluate_flatten, stream=RECOMPUTE,
              stream_problem=_flatten),
)
