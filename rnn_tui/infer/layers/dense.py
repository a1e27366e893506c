"""Dense and Activation: per position (or per vector), so token-determined inputs stay in
lookup form (the layer is applied once per vocabulary row, ``rows.derived_rows``)."""

from __future__ import annotations

from typing import Any

from rnn_tui.infer import ops
from rnn_tui.infer.layers.base import (
    CAUSAL,
    RuntimeOp,
    config_activation,
    keeps_first_mask,
    numpy_weights,
)
from rnn_tui.infer.rows import derived_rows
from rnn_tui.infer.values import Array, Value

KERAS_LAYERS = ("Dense", "Activation")


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    kind = type(layer).__name__
    if kind == "Dense":
        named = {"kernel": numpy_weights(layer.kernel)}
        if layer.use_bias:
            named["bias"] = numpy_weights(layer.bias)
        return ({"op": "dense", "config": {
            "units": int(config["units"]),
            "activation": config_activation(config, "activation", layer)}}, named)
    if kind == "Activation":
        return ({"op": "activation", "config": {
            "activation": config_activation(config, "activation", layer)}}, {})
    return None


def prepare_activation(runtime, node, named, lookup, widths) -> None:
    source, in_width = lookup.get(node.inputs[0]), widths.get(node.inputs[0])
    function = ops.activation(node.config["activation"])
    node.params["function"] = function
    if source is not None:  # even softmax: it works along the last axis, per row
        derived = derived_rows(source, function, in_width)
        if derived is not None:
            node.params["lookup"] = lookup[node.output] = derived
    widths[node.output] = in_width


def prepare_dense(runtime, node, named, lookup, widths) -> None:
    source = lookup.get(node.inputs[0])
    kernel, bias = named["kernel"], named.get("bias")
    function = ops.activation(node.config.get("activation", "linear"))

    def dense(x: Array, kernel=kernel, bias=bias, function=function) -> Array:
        y = x @ kernel
        if bias is not None:
            y += bias
        return function(y)

    node.params["function"] = dense
    if source is not None:
        derived = derived_rows(source, dense, kernel.shape[1])
        if derived is not None:
            node.params["lookup"] = lookup[node.output] = derived
    widths[node.output] = kernel.shape[1]


def evaluate(runtime, node, inputs, context, record) -> Value:
    first = inputs[0]
    if first.is_lookup and "lookup" in node.params:
        return Value(ids=first.ids, rows=node.params["lookup"], mask=first.mask,
                     share=first.share)
    data = node.params["function"](first.materialize())
    keep_mask = data.ndim == 3
    return Value(data=data, mask=first.mask if keep_mask else None,
                 share=first.share if keep_mask else None)


OPS = (
    RuntimeOp("dense", prepare_dense, evaluate, required=("kernel",), optional=("bias",),
              mask=keeps_first_mask, stream=CAUSAL),
    RuntimeOp("activation", prepare_activation, evaluate, mask=keeps_first_mask,
              stream=CAUSAL),
)
