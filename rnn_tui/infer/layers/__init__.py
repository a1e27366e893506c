"""The runtime's layer kinds, one module each, registered in one table.

Each module exports Keras layers (``describe``) and defines the graph ops they become
(``OPS``: weights, mask rule, evaluation, streaming role; see ``base.RuntimeOp``).
``format`` checks weights, ``export`` describes layers and checks masks, ``runtime``
prepares and evaluates nodes and ``streaming`` decides what streams, all by looping over
this table: a new kind is a new module added to ``KINDS``, nothing else. Keras ops called on
tensors (``keras.ops.log(x)``, not layers) are ``arithmetic``'s, through ``describe_operation``.

>>> OPS["dense"].required, OPS["dense"].stream
(('kernel',), 'causal')
"""

from __future__ import annotations

from typing import Any

from rnn_tui.infer.layers import (
    arithmetic,
    bag,
    concatenate,
    convolution,
    dense,
    embedding,
    identity,
    pooling,
    recurrent,
    transformer,
)
from rnn_tui.infer.layers.base import RuntimeOp, UnsupportedModelError, no_adapters

# In the order the exporter tries them (and lists them in its messages).
KINDS = (embedding, identity, recurrent, convolution, pooling, concatenate, dense, transformer,
         bag, arithmetic)
OPS: dict[str, RuntimeOp] = {op.name: op for kind in KINDS for op in kind.OPS}
SUPPORTED = ", ".join(["InputLayer", *(name for kind in KINDS for name in kind.KERAS_LAYERS)])


def describe_layer(keras: Any, layer: Any, input_ranks: list[int | None]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The graph node (op + config) and the weights of one Keras layer."""
    config = layer.get_config()
    no_adapters(layer)
    for kind in KINDS:
        found = kind.describe(keras, layer, config, input_ranks)
        if found is not None:
            return found
    raise UnsupportedModelError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not supported by the "
        f"TensorFlow-free runtime (supported: {SUPPORTED})")


def describe_operation(operation: Any, args: tuple, kwargs: dict[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """The graph node, constants and input tensors of a Keras op called on tensors
    (``keras.ops.log(x)``, not a layer): ``arithmetic`` has the ones the runtime computes."""
    return arithmetic.describe_operation(operation, args, kwargs)


def op(name: str) -> RuntimeOp:
    """The table's entry for an op name; a ValueError for an unknown one."""
    try:
        return OPS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown op {name!r}") from None


__all__ = ["KINDS", "OPS", "SUPPORTED", "RuntimeOp", "UnsupportedModelError", "describe_layer",
           "describe_operation", "op"]
