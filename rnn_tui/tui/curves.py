"""Training curves as data (``Curve``) and their legend, apart from the chart widget
(``widgets/curve_plot.py``), so that drawing a run card's text does not import plotext.

The legend is drawn outside the plot (``legend_text``, a line above it): plotext's own legend
sits inside the plotting area and hides the curves of a narrow card. Curve colours come from
the active Textual theme, so they follow light and dark themes (and NO_COLOR).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.color import Color

# Theme variables giving each curve its colour: train loss, val loss, train metric, val metric.
CURVE_COLOURS = ("primary", "warning", "success", "accent")
MARKER_SHOWN = {"braille": "⠒", "hd": "▀", "dot": "·"}


@dataclass(frozen=True)
class Curve:
    """One line: a label, one value per epoch (None where missing), its axis and marker.

    Markers differ as well as colours, so the lines stay apart under NO_COLOR. ``colour`` is
    a Textual theme variable ("primary").
    """

    label: str
    values: tuple[float | None, ...]
    right_axis: bool = False
    marker: str = "braille"
    colour: str = "primary"


def curve_colour(theme_variables: dict[str, str], name: str) -> tuple[int, int, int]:
    """The RGB of theme variable ``name`` (a grey when the theme lacks it)."""
    try:
        return Color.parse(theme_variables.get(name, "#888888")).rgb
    except Exception:  # a theme value Textual cannot parse: still draw the line
        return (136, 136, 136)


def legend_text(curves: tuple[Curve, ...], theme_variables: dict[str, str]) -> Text:
    """``⠒ loss  • val_loss  + mae (right)``: marker and label of each curve, in its colour."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for curve in curves:
        if text:
            text.append("  ")
        red, green, blue = curve_colour(theme_variables, curve.colour)
        text.append(MARKER_SHOWN.get(curve.marker, curve.marker) + " ",
                    style=f"bold rgb({red},{green},{blue})")
        text.append(curve.label + (" (right)" if curve.right_axis else ""))
    return text
