"""What the training engine says to the outside: typed events, one dataclass each.

The engine never prints; it calls ``on_event(event)``. The rich renderer, the plain renderer,
the ``--json`` writer (one ``to_dict()`` per line) and the TUI's training pane consume the same
stream. Every ``to_dict()`` has an ``"event"`` key naming the class, and ``event_from_dict``
turns a parsed line back into the dataclass:

>>> line = EpochEnded(epoch=1, epochs=2, logs={"loss": 0.5}, seconds=1.5).to_dict()
>>> line["event"], event_from_dict(line).logs["loss"]
('EpochEnded', 0.5)

Epochs and steps are counted from 1, as users read them ("epoch 3/10").
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become None (JSON has no NaN), NumPy scalars become Python ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Event:
    """Base class: ``time`` is when the event happened (seconds since the epoch)."""

    time: float = field(default_factory=time.time, kw_only=True)
    kind: ClassVar[str] = "Event"

    def to_dict(self) -> dict[str, Any]:
        data = {"event": type(self).__name__}
        for item in dataclasses.fields(self):
            data[item.name] = _clean(getattr(self, item.name))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        names = {item.name for item in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass
class RunStarted(Event):
    """Training is about to start (the model is built, the data is ready).

    ``resumed_from`` is the number of epochs already finished by an interrupted run of the
    same name and config (0 for a fresh run). ``distribution`` says where it trains
    (``rnn_tui.train.distribute``): strategy, replicas, workers, per-replica and global
    batch size, the learning rate and its rule.
    """

    name: str
    config: dict[str, Any]
    epochs: int
    steps_per_epoch: int
    params: dict[str, int]
    resumed_from: int = 0
    run_dir: str = ""
    train_size: int = 0
    validation_size: int = 0
    test_size: int = 0
    device: str = "CPU"
    distribution: dict[str, Any] = field(default_factory=dict)


@dataclass
class EpochStarted(Event):
    epoch: int
    epochs: int


@dataclass
class BatchEnded(Event):
    """Progress inside an epoch; ``logs`` are the running means of the epoch so far.

    The engine sends at most a few per second (and always the last step of an epoch).
    """

    epoch: int
    step: int
    steps: int
    logs: dict[str, float]


@dataclass
class EpochEnded(Event):
    """An epoch is finished; ``logs`` hold the training metrics and the ``val_*`` ones."""

    epoch: int
    epochs: int
    logs: dict[str, float]
    seconds: float
    samples_per_second: float | None = None


@dataclass
class CheckpointSaved(Event):
    """The best model so far was saved (``metric`` is the monitored value, val_loss)."""

    path: str
    epoch: int
    metric: str
    value: float | None


@dataclass
class Note(Event):
    """Something the user should know: a slow kernel, vector coverage, a resume, a choice."""

    text: str
    topic: str = "info"  # info, kernel, vectors, resume, data, early-stopping


@dataclass
class RunFinished(Event):
    """Training, evaluation and publishing are done."""

    name: str
    model_ref: str | None
    test_metrics: dict[str, float]
    duration_s: float
    epochs_run: int
    best_epoch: int | None = None
    stopped_early: bool = False
    aliases: list[str] = field(default_factory=list)


@dataclass
class RunFailed(Event):
    message: str
    epoch: int | None = None


@dataclass
class RunCancelled(Event):
    """Stopped by the user (Ctrl-C, SIGTERM, or the TUI); ``epoch`` epochs are kept."""

    epoch: int
    run_dir: str = ""
    message: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (RunStarted, EpochStarted, BatchEnded, EpochEnded, CheckpointSaved, Note,
                RunFinished, RunFailed, RunCancelled)
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``to_dict()`` output (one parsed ``--json`` line)."""
    try:
        cls = EVENT_TYPES[data["event"]]
    except KeyError:
        raise ValueError(f"not a training event: {data.get('event')!r}") from None
    return cls.from_dict(data)
