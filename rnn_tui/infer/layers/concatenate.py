"""Concatenate on the last axis: embeddings of several streams side by side (kept in lookup
form), or pools joined before the head."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.infer.layers.base import CAUSAL, RuntimeOp, UnsupportedModelError
from rnn_tui.infer.rows import ConcatRows
from rnn_tui.infer.values import POINTWISE, PREFIX, Value

KERAS_LAYERS = ("Concatenate",)


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    if type(layer).__name__ != "Concatenate":
        return None
    axis = int(config.get("axis", -1))
    rank = input_ranks[0] or 0
    if axis not in (-1, rank - 1):
        raise UnsupportedModelError(f"layer {layer.name!r}: Concatenate is supported on the "
                                    "last axis only")
    return {"op": "concatenate", "config": {"axis": -1}}, {}


def prepare(runtime, node, named, lookup, widths) -> None:
    config = node.config
    if config.get("axis", -1) not in (-1, config.get("rank", 0) - 1):
        raise ValueError("Concatenate is supported on the last axis only")
    widths[node.output] = sum(widths.get(name) or 0 for name in node.inputs)
    sources = [lookup.get(name) for name in node.inputs]
    if all(item is not None for item in sources):  # embeddings side by side
        node.params["lookup"] = lookup[node.output] = ConcatRows(sources)


def evaluate(runtime, node, inputs, context, record) -> Value:
    first = inputs[0]
    lookup = node.params.get("lookup")
    if lookup is not None and all(value.is_lookup for value in inputs):
        # embeddings side by side stay per-id rows (materialized only if needed)
        masks = [value.mask for value in inputs if value.mask is not None]
        shares = {value.share for value in inputs}
        return Value(ids=context.ids if runtime.stream_count > 1 else first.ids,
                     rows=lookup,
                     mask=np.logical_or.reduce(masks) if masks else None,
                     share=POINTWISE if shares == {POINTWISE} else None)
    arrays = [value.materialize() for value in inputs]
    data = np.concatenate(arrays, axis=-1)
    mask = None
    if data.ndim == 3 and any(value.mask is not None for value in inputs):
        # Keras: a step is masked only where every input is (the exporter refuses
        # concatenating masked with unmasked sequences)
        mask = np.logical_or.reduce([value.mask for value in inputs
                                     if value.mask is not None])
    shares = {value.share for value in inputs}
    share = None if None in shares or data.ndim != 3 else (
        POINTWISE if shares == {POINTWISE} else PREFIX)
    return Value(data=data, mask=mask, share=share)


def _mask(config, incoming, node) -> bool:
    has_mask = any(incoming)
    if has_mask and not all(incoming):
        # Keras ORs the masks, an unmasked input counting as all True: the mask says
        # nothing, but is attached; the runtime would mask. Refused.
        raise UnsupportedModelError(
            f"layer {node['name']!r} concatenates masked and unmasked sequences; the runtime "
            "supports concatenating sequences that are all masked (or none)")
    return has_mask


OPS = (RuntimeOp("concatenate", prepare, evaluate, mask=_mask, stream=CAUSAL),)
