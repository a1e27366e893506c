"""Layers that do nothing at inference: dropout and noise are training-time only."""

from __future__ import annotations

from typing import Any

from rnn_tui.infer.layers.base import CAUSAL, RuntimeOp, keeps_first_mask

KERAS_LAYERS = ("Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
                "AlphaDropout")
_ALSO = ("ActivityRegularization",)  # an identity too, not advertised


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    kind = type(layer).__name__
    if kind not in KERAS_LAYERS + _ALSO:
        return None
    return {"op": "identity", "config": {"layer": kind}}, {}


def prepare(runtime, node, named, lookup, widths) -> None:
    source = lookup.get(node.inputs[0])
    if source is not None:
        lookup[node.output] = source
    widths[node.output] = widths.get(node.inputs[0])


def evaluate(runtime, node, inputs, context, record):
    return inputs[0]


OPS = (RuntimeOp("identity", prepare, evaluate, mask=keeps_first_mask, stream=CAUSAL),)
