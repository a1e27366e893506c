"""``dense:U[:ACT]``: a hidden Dense layer on a vector (after a pool, flatten or the last
recurrent layer)."""

from __future__ import annotations

from typing import Any

from rnn_tui.nets.layers.base import REQUIRED, VECTOR, BuildContext, LayerKind

DENSE_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")


def build(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    context.tensor = context.layers_module.Dense(
        layer["units"], activation=layer["activation"],
        name=context.next_name("dense"))(context.tensor)


KINDS = (
    LayerKind("dense", {"units": REQUIRED, "activation": "relu"}, ("units", "activation"),
              build, help="  dense:U[:ACT]       hidden Dense (relu unless ACT is given)",
              takes=VECTOR, gives=VECTOR, choices={"activation": DENSE_ACTIVATIONS}),
)
