"""A small line chart of training curves (train and validation), one value per epoch."""

from __future__ import annotations

from textual.reactive import reactive
from textual_plotext import PlotextPlot

# Markers differ as well as colours, so the curves stay apart under NO_COLOR.
MARKERS = {"train": "braille", "validation": "•"}


class CurvePlot(PlotextPlot):
    """Plots ``series`` (label -> values per epoch, None for a missing epoch)."""

    series: reactive[dict[str, list[float | None]]] = reactive(dict, always_update=True)
    title: reactive[str] = reactive("")

    def _redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        longest = 0
        for label, values in self.series.items():
            points = [(epoch, value) for epoch, value in enumerate(values, start=1)
                      if value is not None]
            if not points:
                continue
            longest = max(longest, points[-1][0])
            xs, ys = zip(*points)
            plt.plot(list(xs), list(ys), label=label,
                     marker=MARKERS.get(label, "braille"))
        if 0 < longest <= 10:  # whole epochs only, not 1.5
            plt.xticks(list(range(1, longest + 1)))
        self.refresh()

    def watch_series(self) -> None:
        self._redraw()

    def watch_title(self) -> None:
        self._redraw()
