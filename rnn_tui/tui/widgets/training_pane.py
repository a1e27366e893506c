"""The Training pane: runs side by side, fed by ``rnn-tui train --json`` subprocesses.

Runs take turns: one trains at a time and the others wait, queued. TensorFlow already spreads
one run over every core, so parallel runs would only slow each other down (and the UI with
them) and make their timings incomparable; one after another, the SimpleRNN/LSTM/GRU
comparison finishes in about the same total time and each card's seconds mean something.
"""

from __future__ import annotations

from dataclasses import dataclass

import itertools
from collections import deque
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from rnn_tui.errors import UserError
from rnn_tui.tui.commands import SlashCommand
from rnn_tui.tui.run_plans import RunPlan, compare_plans, train_plan
from rnn_tui.tui.run_progress import CANCELLED, CANCELLING, QUEUED, STARTING, RunProgress
from rnn_tui.tui.events_process import EventsProcess
from rnn_tui.tui.widgets.run_card import RunCard


VISIBLE_RUNS = 3
LOG_POLL_S = 1.0  # how often the run logs are read for runs started elsewhere


@dataclass
class LogsRead(Message):
    """What the run logs gained (runs started elsewhere; posted from the polling worker)."""

    updates: list[Any]


@dataclass
class RunEvent(Message):
    """A training event read from a run's stdout (posted from the reader thread)."""

    run_id: str
    event: Any


@dataclass
class RunExited(Message):
    """A run's process ended with ``returncode``; the last lines of its stderr."""

    run_id: str
    returncode: int
    stderr_tail: str


class TrainingPane(Vertical):
    """Starts, shows and cancels training runs; posts ``RunEnded`` when one is over."""

    @dataclass
    class RunEnded(Message):
        """A run finished, failed or was cancelled (the app reports it in the transcript)."""

        progress: RunProgress
        run_id: str = ""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._ids = itertools.count(1)
        self._queue: deque[tuple[str, RunPlan]] = deque()
        self._processes: dict[str, EventsProcess] = {}
        self._active: str | None = None
        self._watcher: Any = None
        self._elsewhere: dict[Any, str] = {}  # a run log's path -> its card's id
        self._elsewhere_runs: dict[str, Any] = {}  # card id -> (host, pid, name) of it

    def compose(self) -> ComposeResult:
        yield Static(
            Text("No runs yet. /train DATASET --arch lstm --epochs 2 trains one; /compare "
                 "trains SimpleRNN, LSTM and GRU side by side (the tutorial's multiplication "
                 "problem; /compare imdb for a small IMDB subset). Ctrl+G stops.",
                 style="italic"),
            id="training-empty",
        )
        yield Horizontal(id="runs")

    def watch_run_logs(self) -> None:
        """Start showing the runs of other processes (the app calls this after its first
        paint)."""
        from rnn_tui.paths import run_logs_root
        from rnn_tui.tui.run_watcher import RunWatcher

        self._watcher = RunWatcher(run_logs_root())
        self.set_interval(LOG_POLL_S, self._poll_logs)
        self._poll_logs()

    # ------------------------------------------------------------------ runs elsewhere
    @work(thread=True, exclusive=True, group="run-logs")
    def _poll_logs(self) -> None:
        """Read the run logs: runs started in another terminal, with nohup, or by an
        earlier session appear here, live, like this app's own."""
        updates = self._watcher.poll()
        if updates:
            self.post_message(LogsRead(updates))

    @on(LogsRead)
    def _logs_read(self, message: LogsRead) -> None:
        for update in message.updates:
            run_id = self._elsewhere.get(update.path)
            if run_id is None:
                run_id = f"run-{next(self._ids)}"
                self._elsewhere[update.path] = run_id
                self._elsewhere_runs[run_id] = (update.host, update.pid, update.name)
                progress = RunProgress(f"{update.name} (pid {update.pid})")
                self.query_one("#training-empty").display = False
                self.query_one("#runs", Horizontal).mount(
                    RunCard(run_id, progress, classes="run-card elsewhere"))
            card = self._card(run_id)
            if card is None:
                continue
            for event in update.events:
                card.progress.apply(event)
            if update.lost:
                card.progress.exited(-1, "its process ended without a last word (killed?)")
            card.show()
            if card.progress.done:
                self.post_message(self.RunEnded(card.progress, card.run_id))
        self._show_latest()

    # ------------------------------------------------------------------ starting
    def start_train(self, command: SlashCommand) -> None:
        """Queue the run of a /train command (a bad one raises a UserError first)."""
        self._enqueue([train_plan(command)])

    def start_compare(self, dataset: str | None) -> list[str]:
        """Queue SimpleRNN, LSTM and GRU runs on ``dataset`` (see ``run_plans``); their
        ids (``RunEnded.run_id``)."""
        return self._enqueue(compare_plans(dataset))

    def start_plans(self, plans: list[RunPlan]) -> None:
        """Queue runs of any ``rnn-tui`` command that writes training events (``teach``)."""
        self._enqueue(plans)

    def _enqueue(self, plans: list[RunPlan]) -> list[str]:
        self.query_one("#training-empty").display = False
        runs = self.query_one("#runs", Horizontal)
        run_ids = []
        for plan in plans:
            run_id = f"run-{next(self._ids)}"
            runs.mount(RunCard(run_id, RunProgress(plan.label), classes="run-card"))
            self._queue.append((run_id, plan))
            run_ids.append(run_id)
        self._show_latest()
        self._start_next()
        self.app.refresh_bindings()  # Ctrl+G (stop) is offered while runs are busy
        return run_ids

    def _show_latest(self) -> None:
        """Side by side fit a few cards: the newest stay, older finished ones step aside
        (their models are in the registry and their outcome in the chat)."""
        cards = list(self.query(RunCard))
        for index, card in enumerate(cards):
            card.display = not card.progress.done or index >= len(cards) - VISIBLE_RUNS

    def _start_next(self) -> None:
        if self._active is not None:
            return
        while self._queue:
            run_id, plan = self._queue.popleft()
            card = self._card(run_id)
            if card is None or card.progress.status != QUEUED:
                continue
            card.progress.status = STARTING
            card.show()
            process = EventsProcess(plan.arguments)
            self._processes[run_id] = process
            self._active = run_id
            self._watch(run_id, process)
            return

    @work(thread=True, group="training")
    def _watch(self, run_id: str, process: EventsProcess) -> None:
        """Read one run's events until it exits (a thread: the pipe read blocks)."""
        def started(process: EventsProcess) -> None:
            if process.process is not None and self._watcher is not None:
                self._watcher.ignore_pid(process.process.pid)  # its log is ours to skip

        ended = process.follow(lambda event: self.post_message(RunEvent(run_id, event)),
                               on_started=started)
        if ended is not None:  # None: it trains on its own, the app is leaving
            self.post_message(RunExited(run_id, *ended))

    # ------------------------------------------------------------------ events
    def _card(self, run_id: str) -> RunCard | None:
        cards = self.query(f"#{run_id}")
        return cards.first(RunCard) if cards else None

    @on(RunEvent)
    def _run_event(self, message: RunEvent) -> None:
        card = self._card(message.run_id)
        if card is not None:
            card.progress.apply(message.event)
            card.show()

    @on(RunExited)
    def _run_exited(self, message: RunExited) -> None:
        self._processes.pop(message.run_id, None)
        card = self._card(message.run_id)
        if card is not None:
            card.progress.exited(message.returncode, message.stderr_tail)
            card.show()
            self.post_message(self.RunEnded(card.progress, card.run_id))
        if self._active == message.run_id:
            self._active = None
        self._start_next()
        self.app.refresh_bindings()

    # ------------------------------------------------------------------ cancelling
    def run_names(self) -> list[str]:
        """Labels of the runs that can still be cancelled (runs started elsewhere: their
        names)."""
        return [self._elsewhere_runs[card.run_id][2] if card.run_id in self._elsewhere_runs
                else card.progress.label
                for card in self.query(RunCard) if not card.progress.done]

    def cancel(self, which: str | None = None) -> list[str]:
        """Cancel the runs whose label or id is ``which`` (all this app's when None; a run
        started elsewhere only by its name); returns labels."""
        cancelled = []
        for card in self.query(RunCard):
            progress = card.progress
            if progress.done or progress.status == CANCELLING:
                continue
            elsewhere = self._elsewhere_runs.get(card.run_id)
            if which is None and elsewhere is not None:
                continue
            if which is not None and which not in (progress.label, card.run_id) and (
                    elsewhere is None or which != elsewhere[2]):
                continue
            if elsewhere is not None:
                self._stop_elsewhere(card)
            elif progress.status == QUEUED:
                progress.status = CANCELLED
                progress.message = "cancelled before it started"
            else:
                progress.status = CANCELLING
                process = self._processes.get(card.run_id)
                if process is not None:
                    self._send_cancel(process)
            card.show()
            cancelled.append(progress.label)
        if which is not None and not cancelled:
            raise UserError(f"no run {which!r} to cancel (running: "
                            f"{', '.join(self.run_names()) or 'none'})")
        return cancelled

    def _stop_elsewhere(self, card: RunCard) -> None:
        """SIGTERM to a run started elsewhere (the engine's clean cancel): its log then
        says how it ended."""
        from rnn_tui.train.run_log import RunRecord, stop

        host, pid, name = self._elsewhere_runs[card.run_id]
        path = next(path for path, run_id in self._elsewhere.items() if run_id == card.run_id)
        stop(RunRecord(name=name, path=path, host=host, pid=pid, started=0.0))
        card.progress.status = CANCELLING

    @work(thread=True, group="cancel")
    def _send_cancel(self, process: EventsProcess) -> None:
        process.cancel()  # waits for the engine to clean up, escalating if it hangs

    @on(RunCard.StopPressed)
    def _stop_pressed(self, message: RunCard.StopPressed) -> None:
        self.cancel(message.run_id)

    def cancel_all_on_quit(self) -> list[str]:
        """On quit: ask this app's runs to stop (SIGINT: the engine stops after its step,
        publishes nothing and keeps its resume point) without waiting for them, so the app
        leaves at once; queued runs never start. Returns the labels of the runs asked."""
        asked = []
        for progress, process in self._running_on_quit():
            progress.status = CANCELLING
            process.request_cancel()
            process.detach()  # its reader thread returns: nothing keeps the app waiting
            asked.append(progress.name or progress.label)
        return asked

    def detach_all(self) -> list[str]:
        """On quit: leave this app's running runs training on their own (queued ones are
        cancelled: nothing would start them). Returns the names of the runs left."""
        left = []
        for progress, process in self._running_on_quit():
            process.detach()
            left.append(progress.name or progress.label)
        return left

    def _running_on_quit(self) -> list[tuple[RunProgress, EventsProcess]]:
        """This app's runs that are not over, with their processes; the queued ones (no
        process yet) are marked cancelled here, since nothing will start them."""
        running = []
        for card in self.query(RunCard):
            progress = card.progress
            if progress.done or card.run_id in self._elsewhere_runs:
                continue
            process = self._processes.get(card.run_id)
            if process is None:
                progress.status = CANCELLED
            else:
                running.append((progress, process))
        return running

    @property
    def busy(self) -> bool:
        """Whether this app's own runs are going (runs started elsewhere go on anyway)."""
        return any(not card.progress.done and card.run_id not in self._elsewhere_runs
                   for card in self.query(RunCard))
