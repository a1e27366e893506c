"""The Compare pane: models side by side, as ``rnn-tui compare`` prints them.

The same code as the CLI's: ``rnn_tui.compare.facts.model_facts`` (the card, and keystroke
latency measured on the TensorFlow-free runtime, in a thread) and ``rnn_tui.compare.view``
(the table and the overlaid curves), fitted to the pane: the refs' common prefix goes to
the title and columns that do not fit are dropped whole. Filled by ``/compare REF REF ...``,
or when the three runs of ``/compare [DATASET]`` are over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from rnn_tui.errors import RnnTuiError
from rnn_tui.tui.run_progress import FINISHED, RunProgress
from rnn_tui.tui.verdicts import printable

MIN_CURVE_ROWS = 8  # below this the curves say nothing; the pane scrolls instead
MIN_CURVE_COLUMNS = 30

IDLE_TEXT = ("Nothing compared yet. /compare trains SimpleRNN, LSTM and GRU and puts them "
             "side by side here; /compare MODEL MODEL ... compares published models (test "
             "metrics, params, size, training time, keystroke latency, curves).")


@dataclass
class FactsMeasured(Message):
    """The facts of the models asked for (posted from the measuring thread); ``refs``: what
    was asked (an answer to an older question is dropped)."""

    models: list[Any]
    errors: list[str] = field(default_factory=list)
    refs: list[str] | None = None


class ComparePane(Vertical):
    """Shows one comparison; posts ``Shown`` when it has one to show."""

    @dataclass
    class Shown(Message):
        """A comparison is drawn (``refs``: the models in it)."""

        refs: list[str]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models: list[Any] = []
        self.waiting: dict[str, str | None] = {}  # run id -> its published ref (None: not)
        self.pending: set[str] = set()  # run ids still going
        self.asked: list[str] = []  # the refs being measured
        self.status = Text(IDLE_TEXT, style="italic")

    def compose(self) -> ComposeResult:
        yield Static(self.status, id="compare-status")
        with VerticalScroll(id="compare-scroll"):
            yield Static(id="compare-table")
            yield Static(id="compare-curves")

    # ------------------------------------------------------------------ what to compare
    def await_runs(self, run_ids: list[str]) -> None:
        """Compare the models of these training runs once they are all over."""
        self.waiting = {run_id: None for run_id in run_ids}
        self.pending = set(run_ids)
        self._say(f"waiting for {len(run_ids)} training runs (the Training pane, F3); "
                  "their models appear here when all are done")

    def run_ended(self, run_id: str, progress: RunProgress) -> None:
        """One run is over (the app forwards the Training pane's ``RunEnded``)."""
        if run_id not in self.pending:
            return
        self.pending.discard(run_id)
        if progress.status == FINISHED and progress.model_ref:
            self.waiting[run_id] = progress.model_ref
        if self.pending:
            return
        refs = [ref for ref in self.waiting.values() if ref]
        if refs:
            self.show_refs(refs)
        else:
            self._say("no run published a model: nothing to compare")

    def show_refs(self, refs: list[str]) -> None:
        """Measure and show these registry versions (resolved refs)."""
        self.pending, self.waiting = set(), {}
        self.asked = list(refs)
        self._say(f"measuring {', '.join(refs)} (keystroke latency on the runtime)…")
        self._measure(list(refs))

    @work(thread=True, exclusive=True, group="compare")
    def _measure(self, refs: list[str]) -> None:
        from rnn_tui.compare.facts import model_facts

        models, errors = [], []
        for ref in refs:
            try:
                models.append(model_facts(ref))
            except RnnTuiError as error:
                errors.append(str(error))
        self.post_message(FactsMeasured(models, errors, refs))

    @on(FactsMeasured)
    def _measured(self, message: FactsMeasured) -> None:
        if message.refs is not None and message.refs != self.asked:
            return  # a newer /compare came meanwhile
        self.models = message.models
        if message.errors:
            self._say("; ".join(message.errors), style="bold")
        else:
            self.status = Text("")
        self.show()
        if self.models:
            self.post_message(self.Shown([facts.ref for facts in self.models]))

    # ------------------------------------------------------------------ drawing
    def _say(self, text: str, style: str = "dim") -> None:
        self.status = Text(printable(text), style=style)
        self.show()

    def on_resize(self) -> None:
        self.show()

    def show(self) -> None:
        """Redraw the table and the curves at the pane's size."""
        if not self.is_mounted:
            return
        from rnn_tui.compare.view import comparison_table

        status = self.query_one("#compare-status", Static)
        status.update(self.status)
        status.display = bool(self.status.plain)
        table = self.query_one("#compare-table", Static)
        curves = self.query_one("#compare-curves", Static)
        if not self.models:
            table.update("")
            curves.update("")
            return
        # the pane's own size: on a resize the scroll inside has not been laid out again yet
        width = max(self.content_region.width - 1, 20)  # room for a scrollbar
        table.update(comparison_table(self.models, width=width))
        table_rows = len(self.models) + 2  # title, header, rows
        status_rows = status.size.height if status.display else 0
        rows = (self.content_region.height or 18) - status_rows - table_rows - 1
        curves.update(self._curves(width, max(rows, MIN_CURVE_ROWS)))

    def _curves(self, width: int, height: int) -> Text:
        from rnn_tui.compare.view import short_refs, terminal_curves

        if width < MIN_CURVE_COLUMNS:
            return Text("")
        models = short_refs(self.models)[1]
        drawn = terminal_curves(models, width=width, height=height, color=True)
        if drawn.count("\n") + 1 > height:  # plotext may draw a line more than asked
            drawn = terminal_curves(models, width=width, height=height - 1, color=True)
        return Text("\n") + Text.from_ansi(drawn) if drawn else Text("")
