"""A histogram of text lengths (words per text), as the IMDB tutorial plots it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.reactive import reactive
from textual_plotext import PlotextPlot


class HistogramPlot(PlotextPlot):
    """Bars of ``counts`` for the bins ``[edges[i], edges[i+1])``, labelled by lower edge.

    The bins are drawn evenly spaced by index, so an open last bin ("500 and more") does not
    stretch the axis.
    """

    counts: reactive[Sequence[int]] = reactive(tuple, always_update=True)
    edges: reactive[Sequence[float]] = reactive(tuple, always_update=True)
    title: reactive[str] = reactive("")

    def _redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        if self.counts and len(self.edges) == len(self.counts) + 1:
            positions = list(range(len(self.counts)))
            plt.bar(positions, list(self.counts), width=0.8, marker="█")
            step = max(1, len(positions) // 6)  # a readable number of tick labels
            ticks = positions[::step]
            plt.xticks(ticks, [f"{self.edges[index]:g}" for index in ticks])
            top = max(self.counts)
            levels = sorted({round(top * fraction) for fraction in (0, 1 / 3, 2 / 3, 1)})
            plt.yticks(levels, [f"{level:,}" for level in levels])  # counts are whole
        self.refresh()

    def watch_counts(self) -> None:
        self._redraw()

    def watch_title(self) -> None:
        self._redraw()
