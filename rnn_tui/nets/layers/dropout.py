"""``dropout`` (Dropout) and ``spatial-dropout`` (SpatialDropout1D: whole embedding channels,
the same draw at every position)."""

from __future__ import annotations

from typing import Any

from rnn_tui.nets.layers.base import REQUIRED, SEQUENCE, BuildContext, LayerKind


def build_dropout(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    context.tensor = context.layers_module.Dropout(
        layer["rate"], name=context.next_name("dropout"))(context.tensor)


def build_spatial_dropout(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    context.tensor = context.layers_module.SpatialDropout1D(
        layer["rate"], name=context.next_name("spatial_dropout1d"))(context.tensor)


KINDS = (
    LayerKind("dropout", {"rate": REQUIRED}, ("rate",), build_dropout, aliases=("drop",),
              help="  dropout:R  spatial-dropout:R"),
    LayerKind("spatial_dropout", {"rate": REQUIRED}, ("rate",), build_spatial_dropout,
              aliases=("spatialdropout", "spatial-dropout", "sdropout"),
              short="spatial-dropout", takes=SEQUENCE, gives=SEQUENCE),
)
