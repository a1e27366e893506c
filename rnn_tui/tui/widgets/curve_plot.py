"""A small line chart of training curves: loss on the left axis, a metric on the right
(the curves and their legend: ``rnn_tui.tui.curves``)."""

from __future__ import annotations

from textual.reactive import reactive
from textual_plotext import PlotextPlot

from rnn_tui.tui.curves import Curve, curve_colour


class CurvePlot(PlotextPlot):
    """Plots ``curves`` against the epoch number."""

    curves: reactive[tuple[Curve, ...]] = reactive(tuple)

    def watch_curves(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        longest = 0
        colours = self.app.theme_variables
        for curve in self.curves:
            points = [(epoch, value) for epoch, value in enumerate(curve.values, start=1)
                      if value is not None]
            if not points:
                continue
            longest = max(longest, points[-1][0])
            xs, ys = zip(*points)
            plt.plot(list(xs), list(ys), marker=curve.marker,
                     color=curve_colour(colours, curve.colour),
                     yside="right" if curve.right_axis else "left")
        if 0 < longest <= 12:  # whole epochs only, not 1.5
            plt.xticks(list(range(1, longest + 1)))
        plt.xlabel("epoch")
        self.refresh()
