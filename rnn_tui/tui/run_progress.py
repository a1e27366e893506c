"""The state of one training run, folded from the engine's events (plain Python, no Textual).

The Training pane keeps one ``RunProgress`` per run and draws it; ``apply(event)`` is the
only way it changes, so the pane shows exactly what the event stream said.

>>> from rnn_tui.train.events import EpochEnded
>>> progress = RunProgress("lstm")
>>> progress.apply(EpochEnded(epoch=1, epochs=2, logs={"loss": 0.7, "val_loss": 0.6},
...                           seconds=3.0))
>>> progress.history["val_loss"], progress.epoch
([0.6], 1)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

QUEUED = "queued"
STARTING = "starting"
RUNNING = "running"
CANCELLING = "cancelling"
FINISHED = "finished"
FAILED = "failed"
CANCELLED = "cancelled"
DONE_STATES = (FINISHED, FAILED, CANCELLED)


@dataclass
class RunProgress:
    """Everything the pane shows about a run.

    Attributes:
        label: the short name on the card ("lstm", "imdb gru").
        status: QUEUED, STARTING, RUNNING, CANCELLING, FINISHED, FAILED or CANCELLED.
        epoch / epochs, step / steps: where training is (counted from 1).
        logs: the latest running metrics (batch level), ``epoch_logs`` the last epoch's.
        history: metric -> one value per finished epoch (``loss``, ``val_loss`` ...).
        notes: what the engine wanted the user to know.
        model_ref: what was published ("imdb-lstm:3"), when finished.
        message: why it failed or what the cancel kept.
    """

    label: str
    status: str = QUEUED
    name: str = ""
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    epoch_logs: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[float | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    params: int | None = None
    train_size: int = 0
    device: str = ""
    model_ref: str | None = None
    test_metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    started: float | None = None
    ended: float | None = None
    epoch_seconds: float | None = None

    @property
    def done(self) -> bool:
        return self.status in DONE_STATES

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started

    def apply(self, event: Any) -> None:
        """Fold one training event (``rnn_tui.train.events``) into the state."""
        kind = type(event).__name__
        if kind == "RunStarted":
            self.status = RUNNING if self.status != CANCELLING else CANCELLING
            self.name = event.name
            self.epochs = event.epochs
            self.steps = event.steps_per_epoch
            self.epoch = event.resumed_from
            self.params = (event.params or {}).get("total")
            self.train_size = event.train_size
            self.device = event.device
            self.started = self.started or event.time
            if event.resumed_from:
                self.notes.append(f"resumed after epoch {event.resumed_from}")
        elif kind == "EpochStarted":
            self.epoch, self.epochs, self.step = event.epoch - 1, event.epochs, 0
        elif kind == "BatchEnded":
            self.epoch = event.epoch - 1
            self.step, self.steps = event.step, event.steps
            self.logs = dict(event.logs)
        elif kind == "EpochEnded":
            self.epoch, self.epochs = event.epoch, event.epochs
            self.step = self.steps
            self.epoch_logs = dict(event.logs)
            self.epoch_seconds = event.seconds
            for key, value in event.logs.items():
                series = self.history.setdefault(key, [])
                series.extend([None] * (event.epoch - 1 - len(series)))
                series.append(value)
        elif kind == "Note":
            self.notes.append(event.text)
        elif kind == "RunFinished":
            self.status = FINISHED
            self.model_ref = event.model_ref
            self.test_metrics = dict(event.test_metrics)
            self.ended = event.time
            if event.stopped_early:
                self.notes.append(f"stopped early after epoch {event.epochs_run}")
        elif kind == "RunFailed":
            self.status = FAILED
            self.message = event.message
            self.ended = event.time
        elif kind == "RunCancelled":
            self.status = CANCELLED
            kept = f"{event.epoch} epoch(s) kept for resume" if event.epoch else "nothing kept"
            self.message = event.message or f"cancelled: nothing published; {kept}"
            self.ended = event.time

    def exited(self, returncode: int, stderr_tail: str) -> None:
        """The process ended; a crash without a final event becomes a failure."""
        if self.done:
            return
        self.ended = time.time()
        if self.status == CANCELLING:
            self.status = CANCELLED
            self.message = "cancelled: nothing published"
        else:
            self.status = FAILED
            last = stderr_tail.strip().splitlines()[-1] if stderr_tail.strip() else ""
            self.message = last or f"the training process exited with code {returncode}"

    def metric_names(self) -> tuple[str, str | None]:
        """(loss, the other metric to plot: accuracy, else MAE, else None)."""
        keys = list(self.history) or list(self.logs)
        for candidate in ("accuracy", "acc", "mae", "mean_absolute_error"):
            if candidate in keys:
                return "loss", candidate
        others = [key for key in keys if key != "loss" and not key.startswith("val_")]
        return "loss", (others[0] if others else None)
