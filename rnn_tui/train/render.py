"""Consumers of the training events: a rich live view, plain lines, and a JSON-lines stream.

- ``RichRenderer``: for a terminal. An epoch bar and a batch bar with the running loss and
  accuracy and the time left; each finished epoch leaves one line above the bars, as Keras'
  progress bar does.
- ``PlainRenderer``: for logs and pipes. One line per epoch and a few progress lines inside
  long epochs; never a carriage return or a backspace.
- ``JsonEventWriter``: ``--json``. One ``event.to_dict()`` per line, flushed at once; the TUI
  reads this stream from ``rnn-tui train --json``.

All three are callables taking an event, and safe to call from Keras' callback threads.

>>> import io
>>> stream = io.StringIO()
>>> JsonEventWriter(stream)(Note(text="hello"))
>>> json.loads(stream.getvalue())["event"]
'Note'
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

from rnn_tui.terminal import escape
from rnn_tui.train.events import (
    BatchEnded,
    CheckpointSaved,
    EpochEnded,
    EpochStarted,
    Event,
    Note,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
)

# Shown first and with these names; other metrics follow in the order Keras gives them.
_SHORT = {"accuracy": "acc", "val_accuracy": "val_acc"}


def format_logs(logs: dict[str, float], *, short: bool = False) -> str:
    """``loss 0.4301  accuracy 0.7884  val_loss ...`` (train metrics before val_ ones)."""
    keys = sorted(logs, key=lambda k: (k.startswith("val_"), k != "loss" and k != "val_loss",
                                       k))
    parts = []
    for key in keys:
        name = _SHORT.get(key, key) if short else key
        parts.append(f"{name} {logs[key]:.4f}")
    return "  ".join(parts)


def format_seconds(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _finished_line(event: RunFinished) -> str:
    if not event.model_ref and not event.test_metrics:  # a worker that is not the chief
        return (f"finished: {event.epochs_run} epoch(s) in {format_seconds(event.duration_s)}"
                " (the chief evaluates and publishes)")
    where = f"published {event.model_ref}" if event.model_ref else "finished (not published)"
    if event.aliases:
        where += f" (now @{', @'.join(event.aliases)})"
    metrics = format_logs(event.test_metrics)
    return (f"{where}: test {metrics}; {event.epochs_run} epoch(s) in "
            f"{format_seconds(event.duration_s)}")


def _started_line(event: RunStarted) -> str:
    params = event.params.get("total", 0)
    sizes = f"{event.train_size:,} train"
    if event.validation_size:
        sizes += f" / {event.validation_size:,} validation"
    sizes += f" / {event.test_size:,} test"
    line = (f"training {event.name}: {sizes} rows, {event.steps_per_epoch:,} steps per epoch, "
            f"{params:,} parameters, {event.device}")
    placement = event.distribution or {}
    if placement.get("strategy", "one") != "one":
        replicas = placement.get("replicas", 1)
        line += (f"; {placement['strategy']}: {replicas} replica(s), global batch "
                 f"{placement.get('global_batch_size')} = "
                 f"{placement.get('per_replica_batch_size')} x {replicas}, learning rate "
                 f"{placement.get('learning_rate'):g} ({placement.get('learning_rate_rule')})")
        if placement["strategy"] == "multiworker":
            index = placement.get("worker_index", 0)
            line += (f"; worker {index} of {placement.get('workers')}"
                     + (" (chief)" if index == 0 else ": the chief shows progress and publishes"))
    return line


class JsonEventWriter:
    """``--json``: one JSON object per line on ``stream`` (stdout), flushed per line.

    A reader that goes away (the app that started the run quit, or its SSH session
    dropped) does not stop the run: the writer falls silent, the run goes on and publishes,
    and its events stay in the run log (``train.run_log``) for whoever follows it later.
    """

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._reader_gone = False

    def __call__(self, event: Event) -> None:
        line = json.dumps(event.to_dict(), ensure_ascii=False, allow_nan=False)
        with self._lock:
            if self._reader_gone:
                return
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone = True
                _silence(self.stream)


def _silence(stream: TextIO) -> None:
    """Point a stream whose reader is gone at /dev/null, so later writes (and the flush at
    exit) do not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's StringIO)
        pass


class PlainRenderer:
    """Plain lines for logs and pipes (see the module docstring)."""

    PROGRESS_MARKS = (0.25, 0.5, 0.75)
    MIN_PROGRESS_INTERVAL_S = 5.0

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._next_mark = 0
        self._last_line = 0.0

    def _print(self, text: str) -> None:
        # notes and failures quote file names and values from the data: escaped
        self.stream.write(escape(text) + "\n")
        self.stream.flush()
        self._last_line = time.monotonic()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._print(_started_line(event))
        elif isinstance(event, Note):
            self._print(f"note: {event.text}")
        elif isinstance(event, EpochStarted):
            self._next_mark = 0
        elif isinstance(event, BatchEnded):
            # A progress line at 25/50/75% of long epochs only.
            fraction = event.step / max(1, event.steps)
            if self._next_mark < len(self.PROGRESS_MARKS) \
                    and fraction >= self.PROGRESS_MARKS[self._next_mark] \
                    and event.step < event.steps:
                while self._next_mark < len(self.PROGRESS_MARKS) \
                        and fraction >= self.PROGRESS_MARKS[self._next_mark]:
                    self._next_mark += 1
                if time.monotonic() - self._last_line >= self.MIN_PROGRESS_INTERVAL_S:
                    self._print(f"  epoch {event.epoch} step {event.step}/{event.steps}  "
                                f"{format_logs(event.logs)}")
        elif isinstance(event, EpochEnded):
            self._print(f"epoch {event.epoch}/{event.epochs}  {format_seconds(event.seconds)}  "
                        f"{format_logs(event.logs)}")
        elif isinstance(event, CheckpointSaved):
            value = "" if event.value is None else f" {event.value:.4f}"
            self._print(f"  best so far ({event.metric}{value}): checkpoint saved")
        elif isinstance(event, RunFinished):
            self._print(_finished_line(event))
        elif isinstance(event, RunCancelled):
            self._print(f"cancelled: {event.message}")
        elif isinstance(event, RunFailed):
            self._print(f"failed: {event.message}")


class RichRenderer:
    """A live epoch bar and batch bar in a terminal (see the module docstring)."""

    def __init__(self, console: Any = None):
        from rich.console import Console

        self.console = console or Console()
        self._lock = threading.Lock()
        self._progress: Any = None
        self._epoch_task: Any = None
        self._batch_task: Any = None

    def _start(self, event: RunStarted) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}", justify="right"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
            expand=True,
        )
        self._progress.start()
        self._epoch_task = self._progress.add_task(
            "epochs", total=event.epochs, completed=event.resumed_from, metrics="")
        self._batch_task = self._progress.add_task(
            "batches", total=event.steps_per_epoch, completed=0, metrics="")

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _print(self, text: str, style: str = "") -> None:
        target = self._progress.console if self._progress is not None else self.console
        target.print(escape(text), style=style, highlight=False, markup=False)

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._print(_started_line(event), "bold")
            self._start(event)
        elif isinstance(event, Note):
            self._print(f"note: {event.text}", "dim")
        elif self._progress is None and isinstance(event, (EpochStarted, BatchEnded,
                                                          EpochEnded)):
            return
        elif isinstance(event, EpochStarted):
            self._progress.update(self._epoch_task, description=f"epoch {event.epoch}")
            self._progress.reset(self._batch_task, total=None, metrics="")
        elif isinstance(event, BatchEnded):
            self._progress.update(self._batch_task, total=event.steps, completed=event.step,
                                  metrics=format_logs(event.logs, short=True))
        elif isinstance(event, EpochEnded):
            self._progress.update(self._epoch_task, completed=event.epoch,
                                  metrics=format_logs(
                                      {k: v for k, v in event.logs.items()
                                       if k.startswith("val_")}, short=True))
            self._print(f"epoch {event.epoch}/{event.epochs}  {format_seconds(event.seconds)}  "
                        f"{format_logs(event.logs)}")
        elif isinstance(event, CheckpointSaved):
            value = "" if event.value is None else f" {event.value:.4f}"
            self._print(f"  best so far ({event.metric}{value}): checkpoint saved", "green")
        elif isinstance(event, RunFinished):
            self._stop()
            self._print(_finished_line(event), "bold green")
        elif isinstance(event, RunCancelled):
            self._stop()
            self._print(f"cancelled: {event.message}", "yellow")
        elif isinstance(event, RunFailed):
            self._stop()
            self._print(f"failed: {event.message}", "bold red")


def renderer_for(mode: str, stream: TextIO | None = None) -> Any:
    """"json", "plain" or "rich"; "auto" is rich on a terminal and plain otherwise."""
    stream = stream or sys.stdout
    if mode == "auto":
        mode = "rich" if stream.isatty() else "plain"
    if mode == "json":
        return JsonEventWriter(stream)
    if mode == "plain":
        return PlainRenderer(stream)
    from rich.console import Console

    return RichRenderer(Console(file=stream))
