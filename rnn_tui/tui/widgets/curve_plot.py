"""A small line chart of training curves: loss on the left axis, a metric on the right."""

from __future__ import annotations

from dataclasses import dataclass

from textual.reactive import reactive
from textual_plotext import PlotextPlot


@dataclass(frozen=True)
class Curve:
    """One line: a label, one value per epoch (None where missing), its axis and marker.

    Markers differ as well as colours, so the lines stay apart under NO_COLOR.
    """

    label: str
    values: tuple[float | None, ...]
    right_axis: bool = False
    marker: str = "braille"


class CurvePlot(PlotextPlot):
    """Plots ``curves`` against the epoch number."""

    curves: reactive[tuple[Curve, ...]] = reactive(tuple)

    def watch_curves(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        longest = 0
        for curve in self.curves:
            points = [(epoch, value) for epoch, value in enumerate(curve.values, start=1)
                      if value is not None]
            if not points:
                continue
            longest = max(longest, points[-1][0])
            xs, ys = zip(*points)
            plt.plot(list(xs), list(ys), label=curve.label, marker=curve.marker,
                     yside="right" if curve.right_axis else "left")
        if 0 < longest <= 12:  # whole epochs only, not 1.5
            plt.xticks(list(range(1, longest + 1)))
        plt.xlabel("epoch")
        self.refresh()
