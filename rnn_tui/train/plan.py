"""The objects a training run passes between its stages (``engine._run``: plan -> build ->
fit -> finish): what was decided, what was built, how fitting ended, how the model scored
and what the run folder recorded. The card (``train.card_builder.build_card``) is written from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnn_tui.train.config import TrainConfig
from rnn_tui.train.events import Event, Note
from rnn_tui.train.pipeline import text_lengths
from rnn_tui.train.prepare import PreparedData


@dataclass
class RunPlan:
    """What a run decided before building its model: the data, the spec, how it trains.

    ``notes`` go to the card; ``pending`` events are sent right after RunStarted (which
    opens the event stream).
    """

    config: TrainConfig
    data: PreparedData
    spec: dict[str, Any]
    bucketing: bool
    policy: str | None
    placement: dict[str, Any]
    scaled_rate: float | None
    global_batch: int
    steps: int
    notes: list[str] = field(default_factory=list)
    pending: list[Event] = field(default_factory=list)
    schedule: dict[str, Any] = field(default_factory=dict)  # the card's lr_schedule and ema

    @property
    def names(self) -> list[str] | None:
        return self.data.stream_names

    def lengths_of(self, x: Any) -> Any:
        """Each text's length, for length buckets (None without them)."""
        return text_lengths(x) if self.bucketing else None

    def note(self, text: str, topic: str) -> None:
        """A note for the card that is also sent as an event once the run has started."""
        self.pending.append(Note(text=text, topic=topic))
        self.notes.append(text)


@dataclass
class Training:
    """The compiled model and what feeds it."""

    model: Any
    vectors_card: dict[str, Any] | None
    device: str
    train_data: Any
    validation_data: Any
    steps: int
    rows_per_epoch: int


@dataclass
class FitOutcome:
    """How fitting ended: early or not, and the best epoch (from 1)."""

    stopped_early: bool
    best_epoch: int | None


@dataclass
class Evaluation:
    """The test split's metrics, how long they took, and the loss and metrics compiled."""

    test_metrics: dict[str, Any]
    seconds: float
    loss: str
    metric_names: list[str]


@dataclass
class RunFacts:
    """What the run folder and the clock say about a run (earlier sessions included)."""

    history: dict[str, list[float]]
    epoch_seconds: list[float]
    started: str
    finished: str
    duration_s: float
    sessions: int
