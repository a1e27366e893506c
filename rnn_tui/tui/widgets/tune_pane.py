"""The Tune pane: a hyperparameter search (``rnn-tui tune --json`` in a subprocess) as its
live trial table, the best trial highlighted, and the retraining of the best that follows.

The table is ``rnn_tui.tune.view.trial_table``, the terminal's own, fitted to the pane's
width (columns that do not fit are dropped whole) and height (the newest trials and the
best). Stop (the button, Ctrl+G or /cancel) sends the search SIGINT: the running trial ends
at its next batch, the finished ones stay in the study, nothing is published.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static

from rnn_tui.errors import UserError
from rnn_tui.tui.events_process import EventsProcess
from rnn_tui.tui.commands import SlashCommand
from rnn_tui.tui.run_plans import RunPlan, tune_plan
from rnn_tui.tui.run_progress import FINISHED, RunProgress
from rnn_tui.tui.verdicts import printable

TABLE_LINES_AROUND = 1  # the header row above the trials
EXIT_STOPPED = 130  # the CLI's exit code after Ctrl-C

IDLE_TEXT = ("No search yet. /tune DATASET --budget 20m searches architectures and settings "
             "(Optuna) and publishes the best model; /tune DATASET --trials 3 for a quick "
             "one. /help tune says more.")


@dataclass
class TuneEvent(Message):
    """An event of the search's process (posted from its reader thread)."""

    event: Any


@dataclass
class TuneExited(Message):
    """The search's process ended with ``returncode``; the last lines of its stderr."""

    returncode: int
    stderr_tail: str


class TunePane(Vertical):
    """Starts, shows and stops one search at a time; posts ``Ended`` when it is over."""

    @dataclass
    class Ended(Message):
        """The search is over: ``outcome`` is "finished", "stopped" or "failed"."""

        outcome: str
        text: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan: RunPlan | None = None
        self.process: EventsProcess | None = None
        self.rows: list[Any] = []
        self.metric = ""
        self.study = ""
        self.notes: list[str] = []
        self.retrain: RunProgress | None = None
        self.stopping = False
        self.outcome = ""  # "" while running (or before any search)
        self.started = 0.0
        self.ended: float | None = None
        self.result = ""  # how it ended, in words

    def compose(self) -> ComposeResult:
        with Horizontal(id="tune-title-row"):
            yield Static(Text(IDLE_TEXT, style="italic"), id="tune-status")
            yield Button("Stop", compact=True, id="tune-stop")
        yield Static(id="tune-table")
        yield Static(id="tune-best")
        yield Static(id="tune-retrain")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self.show()

    @property
    def busy(self) -> bool:
        """Whether a search (or its retraining) is going."""
        return self.process is not None and not self.outcome

    # ------------------------------------------------------------------ starting
    def start_command(self, command: SlashCommand, default_dataset: str) -> None:
        """Start the search of a /tune command (a bad one raises a UserError first)."""
        self.start(tune_plan(command, default_dataset))

    def start(self, plan: RunPlan) -> None:
        """Start ``rnn-tui tune`` as ``plan`` says; one search at a time."""
        from rnn_tui.tune.events import TUNE_EVENT_TYPES

        if self.busy:
            raise UserError("a search is running already (Ctrl+G or /cancel tune stops it)")
        self.plan = plan
        self.rows, self.metric, self.study, self.notes = [], "", "", []
        self.retrain, self.stopping, self.outcome, self.ended = None, False, "", None
        self.result = ""
        self.started = time.time()
        self.process = EventsProcess(plan.arguments, more_events=TUNE_EVENT_TYPES)
        self._watch(self.process)
        self.show()
        self.app.refresh_bindings()  # Ctrl+G stops it

    @work(thread=True, group="tune")
    def _watch(self, process: EventsProcess) -> None:
        """Read the search's events until it exits (a thread: the pipe read blocks)."""
        ended = process.follow(lambda event: self.post_message(TuneEvent(event)))
        if ended is not None:  # None: it searches on its own, the app is leaving
            self.post_message(TuneExited(*ended))

    # ------------------------------------------------------------------ events
    @on(TuneEvent)
    def _event(self, message: TuneEvent) -> None:
        event = message.event
        kind = type(event).__name__
        if kind == "TrialsChanged":
            self.rows, self.metric, self.study = event.trial_rows(), event.metric, event.study
        elif kind == "Note":
            self.notes.append(event.text)
        else:  # the retraining of the best trial: the engine's own events
            if self.retrain is None:
                self.retrain = RunProgress("retraining the best trial")
            self.retrain.apply(event)
        self.show()

    @on(TuneExited)
    def _exited(self, message: TuneExited) -> None:
        last = message.stderr_tail.strip().splitlines()[-1] if message.stderr_tail.strip() \
            else f"the search exited with code {message.returncode}"
        last = last.removeprefix("rnn-tui: ").removeprefix("error: ")  # the CLI's own words
        published = self.retrain.model_ref if self.retrain is not None else None
        if message.returncode == 0:
            self.outcome = "finished"
            text = f"✓ tune {self.study}: " + (f"published {published}" if published
                                               else "done (not retrained)")
            if self.retrain is not None and self.retrain.status == FINISHED:
                metrics = ", ".join(f"{key} {value:.4g}" for key, value in
                                    self.retrain.test_metrics.items())
                text += f"; test {metrics}" if metrics else ""
        elif self.stopping or message.returncode == EXIT_STOPPED:
            self.outcome = "stopped"
            text = (f"■ tune {self.study or ''}: stopped; the finished trials are kept in "
                    "the study (the same /tune continues it)")
        else:
            self.outcome = "failed"
            text = f"tune failed: {last}"
        self.ended = time.time()
        self.result = printable(text)
        self.show()
        self.app.refresh_bindings()
        self.post_message(self.Ended(self.outcome, self.result))

    # ------------------------------------------------------------------ stopping
    def stop(self) -> bool:
        """Ask the search to stop as Ctrl-C would; False when none is going."""
        if not self.busy or self.process is None:
            return False
        self.stopping = True
        self._send_stop(self.process)
        self.show()
        return True

    @work(thread=True, group="tune-stop")
    def _send_stop(self, process: EventsProcess) -> None:
        process.cancel()  # waits for the trial to end cleanly, escalating if it hangs

    def stop_on_quit(self, leave: bool) -> bool:
        """On quit: stop the search without waiting (or, ``leave``, let it go on alone).
        Returns whether one was going."""
        if not self.busy or self.process is None:
            return False
        if not leave:
            self.process.request_cancel()
        self.process.detach()
        return True

    @on(Button.Pressed, "#tune-stop")
    def _stop_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.stop()

    # ------------------------------------------------------------------ drawing
    def _tick(self) -> None:
        if self.busy:
            self.query_one("#tune-status", Static).update(self._status())

    def on_resize(self) -> None:
        self.call_after_refresh(self.show)  # once the table's own height is laid out

    def _status(self) -> Text:
        if self.plan is None:
            return Text(IDLE_TEXT, style="italic")
        text = Text(f"{self.plan.label}", style="bold")
        if self.study:
            text.append(f"  study {printable(self.study)} · {printable(self.metric)}")
        minutes, seconds = divmod(int((self.ended or time.time()) - self.started), 60)
        state = self.outcome or ("stopping…" if self.stopping else
                                 "retraining" if self.retrain is not None else "searching")
        text.append(f"  {state} {minutes}m{seconds:02d}s", style="dim")
        return text

    def show(self) -> None:
        """Redraw from the state (the table fitted to the pane)."""
        if not self.is_mounted:
            return
        from rnn_tui.tune.view import best_line, trial_table

        self.query_one("#tune-status", Static).update(self._status())
        self.query_one("#tune-stop", Button).display = self.busy and not self.stopping
        width = self.content_region.width
        best = best_line(self.rows, self.metric) if self.rows else ""
        self.query_one("#tune-best", Static).update(Text(best, style="bold green"))
        self.query_one("#tune-best").display = bool(best)
        retrain = self._retrain_text()
        self.query_one("#tune-retrain", Static).update(retrain)
        self.query_one("#tune-retrain").display = bool(retrain.plain)
        table = self.query_one("#tune-table", Static)
        if not self.rows:
            table.update(Text("starting: loading the corpus and TensorFlow…", style="dim")
                         if self.busy and not self.notes else self._notes_text())
            return
        limit = max(1, table.size.height - TABLE_LINES_AROUND) if table.size.height else 18
        table.update(trial_table(self.rows, self.metric, width=max(width, 20), limit=limit))

    def _notes_text(self) -> Text:
        return Text("\n".join(printable(note) for note in self.notes[-3:]), style="dim")

    def _retrain_text(self) -> Text:
        """The retraining's progress; once the search is over, how it ended."""
        progress = self.retrain
        if self.result:
            return Text(self.result, style="bold")
        if progress is None:
            return Text("")
        if progress.status == FINISHED:
            return Text(f"✓ retrained on every training row: published {progress.model_ref}",
                        style="bold")
        if progress.done:
            return Text(printable(f"retraining {progress.status}: {progress.message}"))
        where = f"epoch {min(progress.epoch + 1, progress.epochs)}/{progress.epochs}" \
            if progress.epochs else "starting"
        if progress.steps:
            where += f", batch {progress.step}/{progress.steps}"
        return Text(printable(f"retraining the best trial as {progress.name or '…'}: "
                              f"{where}"), style="dim")
