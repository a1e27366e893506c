"""Keras model -> ``runtime.npz``: the layer graph and weights the NumPy runtime reads.

Keras is imported lazily (the model passed in has already imported it); importing this
module costs nothing. Sequential and functional models are walked node by node in Keras'
own evaluation order; each layer is described by its kind's module (``infer.layers``).
Every layer must be one the runtime implements; anything else is an
error that names the layer, so a model is never published with a runtime that would give
different answers.

>>> info = export_runtime(model, version_folder / "runtime.npz")      # doctest: +SKIP
>>> info["engine"], info["streamable"]                                # doctest: +SKIP
('numpy', True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.infer import layers as kinds
from rnn_tui.infer.format import FORMAT, FORMAT_VERSION, write_runtime
from rnn_tui.infer.layers import SUPPORTED, UnsupportedModelError

__all__ = ["SUPPORTED", "UnsupportedModelError", "expected_masks", "export_runtime",
           "model_graph"]


def export_runtime(model: Any, path: str | Path, *, float16: bool = False) -> dict[str, Any]:
    """Write the runtime file for a Keras model; return the card's ``runtime`` section.

    Args:
        model: a built Keras 3 model (Sequential or functional) with one output and one
            input, or one token-id input per stream (tokens, n-grams), each read by an
            Embedding.
        path: where to write (``<version folder>/runtime.npz``), atomically.
        float16: store the weights as float16 (half the size; the runtime still computes in
            float32, so results differ from Keras by about 1e-3 instead of 1e-7).

    Returns:
        ``{"engine": "numpy", "format": "rnn-tui-runtime", "format_version": 1,
        "file": "runtime.npz", "dtype": "float32", "size_bytes": ..., "streamable": bool,
        "streaming": "why or why not"}``

    >>> export_runtime(model, "runtime.npz")["dtype"]               # doctest: +SKIP
    'float32'
    """
    graph, weights = model_graph(model)
    size = write_runtime(path, graph, weights, float16=float16)
    from rnn_tui.infer.streaming import streaming_support

    streamable, why = streaming_support(graph)
    info = {
        "engine": "numpy",
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "file": Path(path).name,
        "dtype": "float16" if float16 else "float32",
        "size_bytes": size,
        "streamable": streamable,
        "streaming": why,
    }
    lower = sorted({str(getattr(layer, "compute_dtype", "float32")) for layer in model.layers}
                   - {"float32", "None"})
    if lower:  # mixed precision: Keras itself rounds to float16 on the way
        info["keras_compute_dtypes"] = lower
        info["note"] = (f"Keras computes parts of this model in {', '.join(lower)}; the runtime "
                        "computes in float32, so the two differ by about 1e-3, not 1e-7")
    return info


def model_graph(model: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The graph (JSON-able) and weights of a Keras model; raises UnsupportedModelError."""
    from rnn_tui.backend import keras as get_keras

    keras = get_keras()
    functional = model
    if isinstance(model, keras.Sequential):
        functional = getattr(model, "_functional", None)
        if functional is None:
            raise UnsupportedModelError(
                "the Sequential model is not built: give it an Input or call build()")
    if len(functional.outputs) != 1:
        raise UnsupportedModelError("the runtime supports models with one output")
    names: dict[int, str] = {}

    def tensor_name(tensor: Any) -> str:
        key = id(tensor)
        if key not in names:
            names[key] = f"t{len(names)}"
        return names[key]

    graph: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dtype": "float32",
        "inputs": [],
        "outputs": [],
        "nodes": [],
        "source": {"model": model.name, "keras": keras.__version__},
    }
    weights: dict[str, np.ndarray] = {}
    ranks: dict[str, int] = {}
    given_masks: set[str] = set()  # nodes whose mask is a recorded call argument
    for model_input in functional.inputs:
        input_shape = [None if d is None else int(d) for d in model_input.shape]
        graph["inputs"].append({"name": _input_name(model_input),
                                "tensor": tensor_name(model_input),
                                "dtype": str(model_input.dtype), "shape": input_shape})
        ranks[tensor_name(model_input)] = len(input_shape)
    nodes = _nodes_in_order(functional)
    mask_tensors = _mask_arguments(nodes)
    for node in nodes:
        layer = node.operation
        if type(layer).__name__ == "InputLayer":
            continue
        if not isinstance(layer, keras.layers.Layer):
            # Keras computes masks with graph ops (NotEqual for mask_zero ...); the runtime
            # derives masks itself, so such an op may only feed layers' mask arguments.
            if all(id(output) in mask_tensors for output in node.outputs):
                continue
            graph["nodes"].append(_operation_entry(node, layer, tensor_name, ranks, weights))
            continue
        entry = _node_entry(keras, node, layer, tensor_name, ranks, weights)
        if node.arguments.kwargs.get("mask") is not None:
            given_masks.add(layer.name)
        graph["nodes"].append(entry)
    graph["outputs"] = [tensor_name(functional.outputs[0])]
    _check_masks(graph)
    _attention_masks(graph, given_masks)
    return graph, weights


def _node_entry(keras: Any, node: Any, layer: Any, tensor_name, ranks: dict[str, int],
                weights: dict[str, np.ndarray]) -> dict[str, Any]:
    """The graph node of one Keras layer call; its weights go to ``weights`` (by
    ``<layer>/<role>``) and its outputs' ranks to ``ranks``."""
    inputs = _data_inputs(node, layer)
    returns_state = isinstance(layer, keras.layers.RNN) and getattr(
        layer, "return_state", False)
    if len(node.outputs) != 1 and not returns_state:
        raise UnsupportedModelError(
            f"layer {layer.name!r} ({type(layer).__name__}) returns several tensors "
            "(only a recurrent layer's return_state is supported)")
    entry, named = kinds.describe_layer(keras, layer,
                                        [ranks.get(tensor_name(t)) for t in inputs])
    output = node.outputs[0]
    for key in ("use_causal_mask", "return_attention_scores"):
        if node.arguments.kwargs.get(key) is True:
            raise UnsupportedModelError(f"layer {layer.name!r} is called with {key}=True, "
                                        "which the runtime does not support")
    entry.update({
        "name": layer.name,
        "inputs": [tensor_name(t) for t in inputs],
        "output": tensor_name(output),
        "mask": getattr(output, "_keras_mask", None) is not None,
    })
    if returns_state:
        entry["states"] = [tensor_name(t) for t in node.outputs[1:]]
        for state in node.outputs[1:]:
            ranks[tensor_name(state)] = len(state.shape)
    _store_weights(entry, named, weights)
    ranks[entry["output"]] = len(output.shape)
    return entry


def _operation_entry(node: Any, operation: Any, tensor_name, ranks: dict[str, int],
                     weights: dict[str, np.ndarray]) -> dict[str, Any]:
    """The graph node of a Keras op called on tensors (``keras.ops.log(x)``): the few the
    runtime computes (``infer.layers.arithmetic``); any other names itself."""
    entry, named, inputs = kinds.describe_operation(operation, tuple(node.arguments.args),
                                                    dict(node.arguments.kwargs))
    output = node.outputs[0]
    if len(node.outputs) != 1 or not str(output.dtype).startswith("float"):
        raise UnsupportedModelError(f"operation {operation.name!r} "
                                    f"({type(operation).__name__}) must give one float tensor")
    entry.update({
        "name": operation.name,
        "inputs": [tensor_name(t) for t in inputs],
        "output": tensor_name(output),
        "mask": getattr(output, "_keras_mask", None) is not None,
    })
    _store_weights(entry, named, weights)
    ranks[entry["output"]] = len(output.shape)
    return entry


def _store_weights(entry: dict[str, Any], named: dict[str, Any],
                   weights: dict[str, np.ndarray]) -> None:
    """A node's arrays go to ``weights`` as ``<node>/<role>``; the node names them."""
    entry["weights"] = {}
    for role, array in named.items():
        key = f"{entry['name']}/{role}"
        weights[key] = np.asarray(array, np.float32)
        entry["weights"][role] = key


def _input_name(tensor: Any) -> str:
    history = getattr(tensor, "_keras_history", None)
    layer = history[0] if history else None
    return getattr(layer, "name", None) or "input"


def _nodes_in_order(functional: Any) -> list[Any]:
    """The functional graph's nodes in Keras' own evaluation order."""
    ordered = []
    for depth in sorted(functional._nodes_by_depth, reverse=True):
        for node in functional._nodes_by_depth[depth]:
            if node.operation is None or node.is_input:
                continue
            ordered.append(node)
    return ordered


def _mask_arguments(nodes: list[Any]) -> set[int]:
    """ids of the tensors that only ever serve as masks.

    Keras 3 builds masks with graph ops (NotEqual for ``mask_zero``; ExpandDims, concatenate
    and All when Concatenate merges masks) that end in layers' ``mask`` arguments. A tensor
    is mask-only when every use of it is a ``mask`` argument or an input of an op whose
    outputs are themselves mask-only.
    """
    from keras import tree

    uses: dict[int, list[tuple[Any, bool]]] = {}
    for node in nodes:
        mask = node.arguments.kwargs.get("mask")
        mask_ids = {id(item) for item in tree.flatten(mask)} if mask is not None else set()
        for tensor in node.input_tensors:
            uses.setdefault(id(tensor), []).append((node, id(tensor) in mask_ids))
    mask_only: set[int] = set()
    mask_nodes: set[int] = set()
    from rnn_tui.backend import keras as get_keras

    layer_class = get_keras().layers.Layer
    for node in reversed(nodes):  # consumers come before producers in this order
        outputs = [id(tensor) for tensor in node.outputs]
        for key in outputs:
            consumers = uses.get(key, [])
            if consumers and all(as_mask or id(consumer) in mask_nodes
                                 for consumer, as_mask in consumers):
                mask_only.add(key)
        if not isinstance(node.operation, layer_class) and outputs and all(
                key in mask_only for key in outputs):
            mask_nodes.add(id(node))
    return mask_only


# The ops Keras builds masks with: NotEqual(ids, 0) for mask_zero, and what Concatenate's
# compute_mask does with them (ExpandDims, ZerosLike/OnesLike, LogicalOr, Concatenate, Any).
_MASK_OPS = {"NotEqual", "ExpandDims", "ZerosLike", "OnesLike", "LogicalOr", "LogicalAnd",
             "Concatenate", "Any", "All"}


def _derived_mask(tensor: Any) -> bool:
    """Whether ``tensor`` is a mask built the way Keras derives one from ``mask_zero``
    inputs: ops only (no layer), starting at ``NotEqual(model input, 0)``.

    A model loaded from a .keras file passes such masks to its layers explicitly (the
    saved graph holds the ops), where a freshly built model passes the inputs' own masks.
    """
    from rnn_tui.backend import keras as get_keras

    history = getattr(tensor, "_keras_history", None)
    if not history:
        return False
    operation, node_index = history[0], history[1]
    kind = type(operation).__name__
    if isinstance(operation, get_keras().layers.Layer) or kind not in _MASK_OPS:
        return False
    node = operation._inbound_nodes[node_index]
    if kind == "NotEqual":
        args = list(node.arguments.args)
        tensors = [arg for arg in args if hasattr(arg, "_keras_history")]
        constants = [arg for arg in args if not hasattr(arg, "_keras_history")]
        return len(tensors) == 1 and constants == [0] and \
            type(tensors[0]._keras_history[0]).__name__ == "InputLayer"
    if kind in ("ZerosLike", "OnesLike"):
        return True  # a shape only
    return all(_derived_mask(item) for item in node.input_tensors)


def _data_inputs(node: Any, layer: Any) -> list[Any]:
    """The tensors a layer is called on; only ``mask`` (the inputs' own masks, or in a
    loaded model the same masks rebuilt from its ops) may ride along."""
    from keras import tree

    inputs = [item for item in tree.flatten(node.arguments.args)
              if hasattr(item, "_keras_history")]
    for key, value in node.arguments.kwargs.items():
        items = [item for item in tree.flatten(value) if hasattr(item, "_keras_history")]
        if not items:
            continue
        if key != "mask":
            raise UnsupportedModelError(
                f"layer {layer.name!r} is called with a tensor for {key!r}; the runtime "
                "supports plain calls on the previous layer's output only")
        own = [mask for mask in (getattr(tensor, "_keras_mask", None) for tensor in inputs)
               if mask is not None]
        if [id(item) for item in items] == [id(mask) for mask in own]:
            continue
        if not (len(items) == len(own) and all(_derived_mask(item) for item in items)):
            raise UnsupportedModelError(
                f"layer {layer.name!r} is given an explicit mask; the runtime supports the "
                "masks Keras derives from Embedding(mask_zero=True) only")
    return inputs


# ------------------------------------------------------------------ mask rules

def expected_masks(graph: dict[str, Any]) -> dict[str, bool]:
    """Which tensors carry a mask, by the runtime's rules (mirroring Keras 3)."""
    masked = {item["tensor"]: False for item in graph["inputs"]}
    for node in graph["nodes"]:
        incoming = [masked.get(name, False) for name in node["inputs"]]
        rule = kinds.op(node["op"]).mask
        masked[node["output"]] = rule(node.get("config", {}), incoming, node)
        for state in node.get("states") or []:
            masked[state] = False
    return masked


def _check_masks(graph: dict[str, Any]) -> None:
    expected = expected_masks(graph)
    for node in graph["nodes"]:
        if expected[node["output"]] != node["mask"]:
            raise UnsupportedModelError(
                f"layer {node['name']!r}: Keras {'attaches' if node['mask'] else 'drops'} a "
                "mask here that the runtime would not; this combination is not supported")


def _attention_masks(graph: dict[str, Any], given_masks: set[str]) -> None:
    """Record, on each attention node, which of its inputs' masks Keras applies when it runs.

    Keras hands a layer its mask either as a recorded call argument (pools, recurrent
    layers: built from the graph's mask ops, always there) or through the mask attached to
    the input tensor while the model runs, which is how MultiHeadAttention gets its own.
    And MultiHeadAttention, running, detaches the masks of the tensors it reads: a later
    layer that reads the same tensor (a residual Add) sees no mask there, nor does anything
    after it that gets its mask that way (a second attention layer). This replays that.
    """
    live = {item["tensor"]: False for item in graph["inputs"]}
    for node in graph["nodes"]:
        incoming = [live.get(name, False) for name in node["inputs"]]
        if node["name"] in given_masks:
            has_mask = node["mask"]
        else:
            try:
                has_mask = kinds.op(node["op"]).mask(node.get("config", {}), incoming, node)
            except UnsupportedModelError:  # an Add of a masked and a detached tensor
                has_mask = False
        if node["op"] == "multi_head_attention":
            value = incoming[1] if len(incoming) > 1 else incoming[0]
            node["config"]["query_mask"], node["config"]["value_mask"] = incoming[0], value
            for name in node["inputs"]:
                live[name] = False
        live[node["output"]] = has_mask
        for state in node.get("states") or []:
            live[state] = False
