"""What one runtime op is made of, and the helpers its Keras exporter shares with the others.

A layer kind of the TensorFlow-free runtime is one module of this package. It says which
Keras layers it exports (``describe``: Keras layer -> graph node + weights) and, per graph op,
a :class:`RuntimeOp`: the weights the op needs, the mask rule it follows (mirroring Keras 3),
how the runtime prepares and evaluates it, and how streaming treats it. The package's
``OPS`` table is what ``format``, ``export``, ``runtime`` and ``streaming`` loop over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_tui.errors import UserError

Array = np.ndarray
# How streaming treats an op: computed per position (a token's value depends on that token
# only), a recurrent layer (stepped, states kept per position), a pooling over time (running
# max / sum kept per position), or not streamable (every update recomputes the text).
CAUSAL, RECURRENT, REDUCER, RECOMPUTE = "causal", "recurrent", "reducer", "recompute"


class UnsupportedModelError(UserError):
    """The model has a layer (or a setting) the runtime cannot reproduce."""


def keeps_first_mask(config: dict[str, Any], incoming: list[bool], node: dict[str, Any]) -> bool:
    return incoming[0]


def drops_mask(config: dict[str, Any], incoming: list[bool], node: dict[str, Any]) -> bool:
    return False


def streams(node: dict[str, Any]) -> str | None:
    return None


@dataclass(frozen=True)
class RuntimeOp:
    """One graph op: its weights, mask rule, runtime evaluation and streaming role.

    Args:
        name: the op's name in graph.json (``"dense"``).
        prepare: ``(runtime, node, weights, lookup, widths)``: set ``node.params`` and the
            output's width (``widths[node.output]``); a lookup-form output goes to ``lookup``.
        evaluate: ``(runtime, node, input values, context, record) -> Value``.
        required, optional: the weights' roles (``kernel``; ``bias`` is optional).
        mask: ``(config, incoming masks, node) -> bool``: whether Keras attaches a mask to
            the output (the exporter refuses a model where Keras disagrees).
        stream: CAUSAL, RECURRENT, REDUCER or RECOMPUTE (see above).
        stream_problem: ``node -> reason or None``: why this node cannot stream after all
            (a recurrent layer reading backwards); for RECOMPUTE the reason shown.
        reads_ids: the op reads token ids (an embedding): streaming needs one.
    """

    name: str
    prepare: Callable[..., None]
    evaluate: Callable[..., Any]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    mask: Callable[[dict[str, Any], list[bool], dict[str, Any]], bool] = drops_mask
    stream: str = RECOMPUTE
    stream_problem: Callable[[dict[str, Any]], str | None] = streams
    reads_ids: bool = False


# ------------------------------------------------------------------ exporting helpers
def numpy_weights(variable: Any) -> Array:
    """A Keras variable as a float32 array."""
    from rnn_tui.backend import keras as get_keras

    return np.asarray(get_keras().ops.convert_to_numpy(variable), dtype=np.float32)


def config_activation(config: dict[str, Any], key: str, layer: Any) -> str:
    """The activation named in a layer's config, checked against what the runtime has."""
    from rnn_tui.infer.ops import ACTIVATIONS

    name = config.get(key, "linear")
    if name is None:
        name = "linear"
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise UnsupportedModelError(
            f"layer {layer.name!r} uses the activation {name!r}, which the runtime does not "
            f"implement (supported: {', '.join(sorted(ACTIVATIONS))})")
    return name


def channels_last(config: dict[str, Any], layer: Any) -> None:
    if config.get("data_format") not in (None, "channels_last"):
        raise UnsupportedModelError(f"layer {layer.name!r}: only channels_last is supported")


def no_adapters(layer: Any) -> None:
    if getattr(layer, "lora_enabled", False):
        raise UnsupportedModelError(f"layer {layer.name!r} has LoRA weights; merge them first")
    if getattr(layer, "quantization_mode", None):
        raise UnsupportedModelError(f"layer {layer.name!r} is quantized "
                                    f"({layer.quantization_mode}); export the float model")
