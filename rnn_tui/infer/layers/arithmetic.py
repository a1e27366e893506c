"""Keras operations called on a functional model's tensors (``keras.ops.log(x)``): the few the
bag of words' tutorial modes are made of (``nets/layers/bag.py``: ``freq`` divides the counts
by their sum, ``tfidf`` takes 1 + log(count) times the idf).

They are Keras' own ops (saved in ``model.keras``, loaded in safe mode), not layers: the
exporter describes them with :func:`describe_operation`, one ``math`` node each. Operands are
the node's input tensors, numbers, or constant arrays (stored as the node's weights,
``operand<position>``), in Keras' order (``divide(a, b)`` is a / b). Where Keras would divide
by zero the runtime gives the same inf or nan, silently, as Keras does.

>>> FUNCTIONS["maximum"](None, np.array([0.0, 3.0]), 1.0)
array([1., 3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.infer.layers.base import RuntimeOp, UnsupportedModelError
from rnn_tui.infer.values import Value

KERAS_LAYERS = ()  # no layers: operations (see KERAS_OPS), described by describe_operation
KERAS_OPS = ("Add", "Multiply", "Divide", "Maximum", "Minimum", "Log", "Sum")


def _sum(node: Any, values: np.ndarray) -> np.ndarray:
    return values.sum(axis=-1, keepdims=True)


# function -> (node, *operands) -> array; the op's class name, lower-cased
FUNCTIONS = {
    "add": lambda node, a, b: np.add(a, b),
    "multiply": lambda node, a, b: np.multiply(a, b),
    "divide": lambda node, a, b: np.divide(a, b),
    "maximum": lambda node, a, b: np.maximum(a, b),
    "minimum": lambda node, a, b: np.minimum(a, b),
    "log": lambda node, a: np.log(a),
    "sum": _sum,
}
ARITY = {name: (1 if name in ("log", "sum") else 2) for name in FUNCTIONS}


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    return None  # layers are the other kinds'; operations come to describe_operation


def describe_operation(operation: Any, args: tuple, kwargs: dict[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, np.ndarray], list[Any]]:
    """A Keras op's graph node, its constant arrays by role, and the tensors it reads (the
    node's inputs, in order); raises UnsupportedModelError for any other op or form."""
    kind = type(operation).__name__
    if kind not in KERAS_OPS or kwargs:
        raise UnsupportedModelError(
            f"operation {operation.name!r} ({kind}) is not supported by the TensorFlow-free "
            f"runtime (supported operations: {', '.join(KERAS_OPS)}, called on tensors and "
            "constants)")
    function = kind.lower()
    operands, named, tensors = [], {}, []
    for position, argument in enumerate(args):
        if hasattr(argument, "_keras_history"):
            operands.append({"input": len(tensors)})
            tensors.append(argument)
            continue
        value = _constant(operation, argument)
        if value.ndim == 0:
            operands.append({"value": float(value)})
        else:
            named[f"operand{position}"] = value
            operands.append({"weight": f"operand{position}"})
    if len(operands) != ARITY[function] or not tensors:
        raise UnsupportedModelError(f"operation {operation.name!r} ({kind}): called with "
                                    f"{len(operands)} operands, not {ARITY[function]}")
    if function == "sum" and (getattr(operation, "axis", None) not in (-1, [-1], (-1,))
                              or getattr(operation, "keepdims", False) is not True):
        raise UnsupportedModelError(f"operation {operation.name!r}: Sum is supported over the "
                                    "last axis with keepdims=True only")
    return {"op": "math", "config": {"function": function, "operands": operands}}, named, tensors


def _constant(operation: Any, argument: Any) -> np.ndarray:
    try:
        value = np.asarray(argument, dtype=np.float32)
    except (TypeError, ValueError):
        value = None
    if value is None or value.dtype == object or not np.isfinite(value).all():
        raise UnsupportedModelError(f"operation {operation.name!r}: an operand is neither a "
                                    "tensor nor a finite number or array")
    return value


def prepare(runtime, node, named, lookup, widths) -> None:
    config = node.config
    function = config.get("function")
    operands = config.get("operands")
    if function not in FUNCTIONS or not isinstance(operands, list) \
            or len(operands) != ARITY[function]:
        raise ValueError(f"node {node.name!r}: not a known math function with its operands")
    node.params["operands"] = [_prepared_operand(node, item, named) for item in operands]
    if function == "sum":
        widths[node.output] = 1
        return
    sizes = [widths.get(node.inputs[item]) if isinstance(item, int) else
             (item.shape[-1] if getattr(item, "ndim", 0) else None)
             for item in node.params["operands"]]
    widths[node.output] = max((size for size in sizes if size), default=None)


def _prepared_operand(node, item: Any, named: dict[str, np.ndarray]) -> Any:
    """An input's index, a float, or a constant array, from the graph's operand entry."""
    if not isinstance(item, dict) or len(item) != 1:
        raise ValueError(f"node {node.name!r}: an operand must be one of input/value/weight")
    (kind, value), = item.items()
    if kind == "input" and isinstance(value, int) and not isinstance(value, bool) \
            and 0 <= value < len(node.inputs):
        return value
    if kind == "value" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind == "weight" and value in named:
        return named[value]
    raise ValueError(f"node {node.name!r}: the operand {item!r} names nothing it has")


def evaluate(runtime, node, inputs, context, record) -> Value:
    operands = [inputs[item].materialize() if isinstance(item, int) else item
                for item in node.params["operands"]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        data = FUNCTIONS[node.config["function"]](node, *operands)
    return Value(data=np.asarray(data, np.float32))


def _recomputes(node: dict[str, Any]) -> str:
    return (f"operation {node['name']!r} ({node.get('config', {}).get('function')}) is "
            "computed on the whole text: every update recomputes it")


OPS = (RuntimeOp("math", prepare, evaluate, optional=("operand0", "operand1"),
                 stream_problem=_recomputes),)
