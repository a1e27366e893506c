"""The Data pane: a corpus' statistics and its length histogram.

Loading a corpus takes seconds (IMDB is 50 000 files in a tarball), so it happens in a
worker while a loading indicator shows; a corpus that is not on this machine says how to get
it instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from rnn_tui.errors import RnnTuiError
from rnn_tui.views.corpus import DataView, data_view
from rnn_tui.tui.verdicts import printable
from rnn_tui.tui.widgets.progress_line import ProgressLine


@dataclass
class DataLoaded(Message):
    """A corpus was described (``view``), or could not be (``error``)."""

    name: str
    view: DataView | None
    error: str = ""


class DataPane(Vertical):
    """Shows the statistics of one corpus; ``show(name)`` loads it in the background."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.current: str | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="data-facts-scroll", can_focus=True):
            yield Static(
                Text("/data DATASET shows a corpus: sizes, classes, lengths "
                     "(/data imdb, /data nsmc, /data reuters, /data multiplication).",
                     style="italic"),
                id="data-facts",
            )
        yield ProgressLine("", id="data-loading")
        # the histogram (plotext) is mounted with the first corpus, not with the app

    def on_mount(self) -> None:
        loading = self.query_one("#data-loading", ProgressLine)
        loading.stop()  # hidden: no ticking (each tick redraws) until a corpus loads
        loading.display = False

    def show(self, name: str) -> None:
        self.current = name
        loading = self.query_one("#data-loading", ProgressLine)
        loading.restart(f"/data {name}", "reading the corpus")
        loading.display = True
        for histogram in self.query("#data-histogram"):
            histogram.display = False
        self.query_one("#data-facts", Static).update(
            Text(f"loading {printable(name)}…", style="italic"))
        self._load(name)

    @work(thread=True, exclusive=True, group="data")
    def _load(self, name: str) -> None:
        loading = self.query_one("#data-loading", ProgressLine)

        def stage(text: str) -> None:
            if self.current == name:
                self.app.call_from_thread(loading.stage, text)

        try:
            view = data_view(name, stage)
        except RnnTuiError as error:
            self.post_message(DataLoaded(name, None, str(error)))
            return
        self.post_message(DataLoaded(name, view))

    async def on_data_loaded(self, message: DataLoaded) -> None:
        if message.name != self.current:
            return  # a newer /data replaced this one
        loading = self.query_one("#data-loading", ProgressLine)
        loading.stop()
        loading.display = False
        facts = self.query_one("#data-facts", Static)
        if message.view is None:
            facts.update(Text(printable(message.error), style="bold red"))
            return
        facts.update(message.view.facts)
        histogram = await self._histogram()
        histogram.display = bool(message.view.counts)
        histogram.title = message.view.histogram_title
        histogram.edges = message.view.edges
        histogram.counts = message.view.counts

    async def _histogram(self) -> Any:
        """The histogram widget, mounted on first use."""
        from rnn_tui.tui.widgets.histogram_plot import HistogramPlot

        found = self.query("#data-histogram")
        if found:
            return found.first(HistogramPlot)
        histogram = HistogramPlot(id="data-histogram")
        await self.mount(histogram)
        return histogram
