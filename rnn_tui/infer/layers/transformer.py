"""The Transformer encoder block's layers: MultiHeadAttention (self-attention), Add and
LayerNormalization, as Keras 3 computes them (``nets/layers/transformer.py`` builds them).

Attention follows Keras' masks: with masked inputs (post padding, ``mask_zero``) a query
attends only to unmasked keys (where Keras applies them when it runs: the exporter records
it per node, see ``export._attention_masks``); a masked query's row is uniform where Keras
uses its fused ``dot_product_attention`` (no attention dropout) and zero where it uses its
Softmax layer (attention dropout > 0), which only a max pool over those positions sees.
Every token attends to every other, so a text through it cannot stream: each update
recomputes it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnn_tui.infer.layers.base import (
    CAUSAL,
    RECOMPUTE,
    RuntimeOp,
    UnsupportedModelError,
    keeps_first_mask,
    numpy_weights,
)
from rnn_tui.infer.values import Array, Value

KERAS_LAYERS = ("MultiHeadAttention", "Add", "LayerNormalization")
_MASKED = np.float32(-1e9)  # any large negative: a masked score's weight is exactly 0


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    kind = type(layer).__name__
    if kind == "MultiHeadAttention":
        return _attention(layer, config, input_ranks)
    if kind == "Add":
        return {"op": "add", "config": {}}, {}
    if kind == "LayerNormalization":
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        rank = input_ranks[0] or 0
        if axis not in (-1, rank - 1) or config.get("rms_scaling"):
            raise UnsupportedModelError(f"layer {layer.name!r}: LayerNormalization is "
                                        "supported on the last axis, without rms_scaling")
        named = {}
        if layer.scale:
            named["gamma"] = numpy_weights(layer.gamma)
        if layer.center:
            named["beta"] = numpy_weights(layer.beta)
        return ({"op": "layer_normalization",
                 "config": {"epsilon": float(config["epsilon"])}}, named)
    return None


def _attention(layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    if any(rank != 3 for rank in input_ranks):
        raise UnsupportedModelError(f"layer {layer.name!r}: MultiHeadAttention is supported "
                                    "on (batch, steps, features) inputs")
    axes = config.get("attention_axes")
    if axes not in (None, [1], (1,), 1):
        raise UnsupportedModelError(f"layer {layer.name!r}: attention over the steps axis only")
    if config.get("output_shape") not in (None,):
        raise UnsupportedModelError(f"layer {layer.name!r}: output_shape is not supported")
    named = {}
    for role, dense in (("query", layer._query_dense), ("key", layer._key_dense),
                        ("value", layer._value_dense), ("output", layer._output_dense)):
        named[f"{role}_kernel"] = numpy_weights(dense.kernel)
        if dense.bias is not None:
            named[f"{role}_bias"] = numpy_weights(dense.bias)
    return ({"op": "multi_head_attention", "config": {
        "num_heads": int(config["num_heads"]), "key_dim": int(config["key_dim"]),
        "value_dim": int(config.get("value_dim") or config["key_dim"]),
        # Keras' Softmax path (taken with attention dropout) zeroes fully masked rows
        "zero_masked_rows": float(config.get("dropout") or 0.0) > 0.0}}, named)


# ------------------------------------------------------------------ runtime
def _prepare_attention(runtime, node, named, lookup, widths) -> None:
    node.params.update(named)
    node.params["scale"] = np.float32(1.0 / math.sqrt(float(node.config["key_dim"])))
    widths[node.output] = named["output_kernel"].shape[-1]


def _project(x: Array, kernel: Array, bias: Array | None) -> Array:
    """(batch, steps, features) @ (features, heads, size) -> (batch, steps, heads, size)."""
    y = np.einsum("btd,dnh->btnh", x, kernel, dtype=np.float32)
    return y + bias if bias is not None else y


def _evaluate_attention(runtime, node, inputs, context, record) -> Value:
    params = node.params
    query_value = inputs[0]
    value_value = inputs[1] if len(inputs) > 1 else inputs[0]
    key_value = inputs[2] if len(inputs) > 2 else value_value
    query = _project(query_value.materialize(), params["query_kernel"], params.get("query_bias"))
    key = _project(key_value.materialize(), params["key_kernel"], params.get("key_bias"))
    value = _project(value_value.materialize(), params["value_kernel"],
                     params.get("value_bias"))
    scores = np.einsum("btnh,bsnh->bnts", query, key, dtype=np.float32) * params["scale"]
    config = node.config
    query_mask = query_value.mask if config.get("query_mask", True) else None
    value_mask = value_value.mask if config.get("value_mask", True) else None
    mask = None
    if query_mask is not None or value_mask is not None:
        batch, steps, keys = len(scores), scores.shape[2], scores.shape[3]
        rows = np.ones((batch, steps), bool) if query_mask is None else query_mask
        columns = np.ones((batch, keys), bool) if value_mask is None else value_mask
        mask = rows[:, None, :, None] & columns[:, None, None, :]
        scores = np.where(mask, scores, _MASKED)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores, dtype=np.float32)
    weights /= weights.sum(axis=-1, keepdims=True)
    if mask is not None and node.config.get("zero_masked_rows"):
        weights = np.where(mask, weights, np.float32(0))
    attended = np.einsum("bnts,bsnh->btnh", weights, value, dtype=np.float32)
    output = np.einsum("btnh,nhd->btd", attended, params["output_kernel"], dtype=np.float32)
    if "output_bias" in params:
        output = output + params["output_bias"]
    return Value(data=output.astype(np.float32, copy=False), mask=query_value.mask)


def _prepare_add(runtime, node, named, lookup, widths) -> None:
    widths[node.output] = widths.get(node.inputs[0])


def _evaluate_add(runtime, node, inputs, context, record) -> Value:
    data = inputs[0].materialize()
    for value in inputs[1:]:
        data = data + value.materialize()
    masks = [value.mask for value in inputs if value.mask is not None]
    mask = np.logical_or.reduce(masks) if masks and data.ndim == 3 else None
    return Value(data=data, mask=mask)


def _add_mask(config, incoming, node) -> bool:
    if any(incoming) and not all(incoming):
        raise UnsupportedModelError(
            f"layer {node['name']!r} adds masked and unmasked sequences; the runtime supports "
            "adding sequences that are all masked (or none)")
    return any(incoming)


def _prepare_norm(runtime, node, named, lookup, widths) -> None:
    node.params["gamma"] = named.get("gamma")
    node.params["beta"] = named.get("beta")
    widths[node.output] = widths.get(node.inputs[0])


def _evaluate_norm(runtime, node, inputs, context, record) -> Value:
    first = inputs[0]
    x = first.materialize()
    mean = x.mean(axis=-1, keepdims=True, dtype=np.float32)
    variance = np.square(x - mean).mean(axis=-1, keepdims=True, dtype=np.float32)
    inverse = np.float32(1.0) / np.sqrt(variance + np.float32(node.config["epsilon"]))
    if node.params["gamma"] is not None:
        inverse = inverse * node.params["gamma"]
    offset = -mean * inverse
    if node.params["beta"] is not None:
        offset = offset + node.params["beta"]
    data = (x * inverse + offset).astype(np.float32, copy=False)
    return Value(data=data, mask=first.mask if data.ndim == 3 else None)


def _everywhere(node: dict[str, Any]) -> str:
    return (f"layer {node['name']!r} (MultiHeadAttention) lets every token attend to every "
            "other: every update recomputes the text")


_ATTENTION_WEIGHTS = ("query_kernel", "key_kernel", "value_kernel", "output_kernel")
OPS = (
    RuntimeOp("multi_head_attention", _prepare_attention, _evaluate_attention,
              required=_ATTENTION_WEIGHTS,
              optional=("query_bias", "key_bias", "value_bias", "output_bias"),
              mask=keeps_first_mask, stream=RECOMPUTE, stream_problem=_everywhere),
    RuntimeOp("add", _prepare_add, _evaluate_add, mask=_add_mask, stream=CAUSAL),
    RuntimeOp("layer_normalization", _prepare_norm, _evaluate_norm,
              optional=("gamma", "beta"), mask=keeps_first_mask, stream=CAUSAL),
)
