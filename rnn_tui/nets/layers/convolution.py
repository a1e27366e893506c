"""``conv1d`` (Conv1D) and ``maxpool`` (MaxPooling1D): windows over neighbouring positions.
They cannot carry a mask, so a model with them never masks the pads."""

from __future__ import annotations

from typing import Any

from rnn_tui.nets.layers.base import REQUIRED, SEQUENCE, BuildContext, LayerKind

CONV_ACTIVATIONS = ("relu", "linear", "tanh")


def build_conv1d(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    context.tensor = context.layers_module.Conv1D(
        layer["filters"], layer["kernel_size"], strides=layer["strides"],
        padding=layer["padding"], activation=layer["activation"],
        name=context.next_name("conv1d"))(context.tensor)


def build_maxpool1d(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    context.tensor = context.layers_module.MaxPooling1D(
        pool_size=layer["pool_size"], padding=layer["padding"],
        name=context.next_name("max_pooling1d"))(context.tensor)


KINDS = (
    LayerKind(
        "conv1d", {"filters": REQUIRED, "kernel_size": REQUIRED, "strides": 1,
                   "padding": "valid", "activation": "relu"},
        ("filters", "kernel_size"), build_conv1d, aliases=("conv",),
        help="""\
  conv1d:F:K          Conv1D, F filters of width K (keys: padding=valid|same,
                      activation=relu|linear|tanh, strides=N)""",
        takes=SEQUENCE, gives=SEQUENCE, carries_mask=False,
        choices={"activation": CONV_ACTIVATIONS, "padding": ("valid", "same")}),
    LayerKind(
        "maxpool1d", {"pool_size": REQUIRED, "padding": "valid"}, ("pool_size",),
        build_maxpool1d, aliases=("maxpool", "max_pooling1d"), short="maxpool",
        help="  maxpool:P           MaxPooling1D of size P",
        takes=SEQUENCE, gives=SEQUENCE, carries_mask=False,
        choices={"padding": ("valid", "same")}),
)
