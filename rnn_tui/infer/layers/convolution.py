"""Conv1D and MaxPooling1D: windows over neighbouring positions (they drop the mask, and a
text cannot stream through them: every update recomputes it; a live session recomputes
only the Conv1D windows over inputs that changed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.infer import ops
from rnn_tui.infer.layers.base import (
    RuntimeOp,
    UnsupportedModelError,
    channels_last,
    config_activation,
    numpy_weights,
)
from rnn_tui.infer.values import Array, Value, rows_differ

KERAS_LAYERS = ("Conv1D", "MaxPooling1D")


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    kind = type(layer).__name__
    if isinstance(layer, keras.layers.Conv1D) and kind == "Conv1D":
        if config.get("data_format", "channels_last") != "channels_last":
            raise UnsupportedModelError(f"layer {layer.name!r}: only channels_last Conv1D")
        if config.get("groups", 1) != 1:
            raise UnsupportedModelError(f"layer {layer.name!r}: grouped Conv1D is not supported")
        named = {"kernel": numpy_weights(layer.kernel)}
        if layer.use_bias:
            named["bias"] = numpy_weights(layer.bias)
        return ({"op": "conv1d", "config": {
            "filters": int(config["filters"]), "kernel_size": int(config["kernel_size"][0]),
            "strides": int(config["strides"][0]), "padding": config["padding"],
            "dilation_rate": int(config["dilation_rate"][0]),
            "activation": config_activation(config, "activation", layer)}}, named)
    if kind == "MaxPooling1D":
        channels_last(config, layer)
        pool = int(config["pool_size"][0])
        strides = config.get("strides")
        stride = int(strides[0]) if strides else pool
        return ({"op": "max_pooling1d", "config": {"pool_size": pool, "strides": stride,
                                                   "padding": config["padding"]}}, {})
    return None


def prepare_conv1d(runtime, node, named, lookup, widths) -> None:
    node.params["kernel"] = named["kernel"]
    node.params["bias"] = named.get("bias")
    node.params["function"] = ops.activation(node.config.get("activation", "linear"))
    widths[node.output] = named["kernel"].shape[2]


def evaluate_conv1d(runtime, node, inputs, context, record) -> Value:
    """A Conv1D layer and its activation; in a live session (``memo``) only the windows over
    inputs that changed since the last call are computed."""
    first = inputs[0]
    config, params = node.config, node.params
    options = dict(stride=config.get("strides", 1), padding=config.get("padding", "valid"),
                   dilation=config.get("dilation_rate", 1))
    slot = None if context.memo is None else context.memo.setdefault((node.name, "conv"), {})
    # what decides the input rows: the ids (an embedding) or the rows themselves
    key = (first.ids if first.is_lookup else first.data)[0]
    x = first.materialize()
    previous = None if slot is None else slot.get("key")
    if previous is not None and previous.shape == key.shape:
        differs = np.flatnonzero(rows_differ(previous, key))
        out = slot["out"] if not differs.size else ops.conv1d_update(
            x, slot["out"], differs, params["kernel"], params["bias"],
            params["function"], **options)
    else:
        out = params["function"](ops.conv1d(x, params["kernel"], params["bias"], **options))
    if slot is not None:  # kept unchanged: a later call copies what it changes
        slot.update(key=key.copy(), out=out)
    return Value(data=out)


def prepare_max_pooling1d(runtime, node, named, lookup, widths) -> None:
    widths[node.output] = widths.get(node.inputs[0])


def evaluate_max_pooling1d(runtime, node, inputs, context, record) -> Value:
    config = node.config
    pool = config["pool_size"]
    data: Array = ops.max_pool1d(inputs[0].materialize(), pool=pool,
                                 stride=config.get("strides") or pool,
                                 padding=config.get("padding", "valid"))
    return Value(data=data)


def _mixes(label: str):
    return lambda node: (f"layer {node['name']!r} ({label}) mixes neighbouring tokens: every "
                         "update recomputes the text")


OPS = (
    RuntimeOp("conv1d", prepare_conv1d, evaluate_conv1d, required=("kernel",),
              optional=("bias",), stream_problem=_mixes("Conv1D")),
    RuntimeOp("max_pooling1d", prepare_max_pooling1d, evaluate_max_pooling1d,
              stream_problem=_mixes("MaxPooling1D")),
)
