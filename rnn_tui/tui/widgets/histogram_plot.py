"""A histogram of text lengths (tokens per text), as the IMDB tutorial plots it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.reactive import reactive
from textual_plotext import PlotextPlot


class HistogramPlot(PlotextPlot):
    """Bars of ``counts`` over ``edges`` (len(edges) == len(counts) + 1)."""

    counts: reactive[Sequence[int]] = reactive(tuple, always_update=True)
    edges: reactive[Sequence[float]] = reactive(tuple, always_update=True)
    title: reactive[str] = reactive("")

    def _redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        if self.counts and len(self.edges) == len(self.counts) + 1:
            centres = [(low + high) / 2 for low, high in zip(self.edges, self.edges[1:])]
            plt.bar(centres, list(self.counts), width=0.9, marker="█")
            plt.xlabel("tokens per text")
        self.refresh()

    def watch_counts(self) -> None:
        self._redraw()

    def watch_title(self) -> None:
        self._redraw()
