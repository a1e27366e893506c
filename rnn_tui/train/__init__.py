"""Training: the engine (fit with callbacks, resumable), typed events, renderers, evaluation.

Nothing here imports TensorFlow at module level; the engine reaches Keras through
``rnn_tui.backend`` when ``train`` runs.

>>> from rnn_tui.train import TrainConfig, train
>>> config = TrainConfig(dataset="imdb", arch="lstm", epochs=2)
>>> result = train(config, on_event=print)                     # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from rnn_tui.train.config import TrainConfig
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
    event_from_dict,
)
from rnn_tui.train.presets import PRESETS, get_preset, preset_config, preset_names

__all__ = [
    "BatchEnded", "CheckpointSaved", "EpochEnded", "EpochStarted", "Event", "Note", "PRESETS",
    "Placement",
    "RunCancelled", "RunCancelledError", "RunFailed", "RunFinished", "RunResult", "RunStarted",
    "TrainConfig", "event_from_dict", "get_preset", "preset_config", "preset_names", "train",
]


def __getattr__(name: str) -> Any:
    # The engine pulls in the data layer and nets; load it only when asked for.
    if name in ("train", "RunResult", "RunCancelledError"):
        from rnn_tui.train import engine

        return getattr(engine, name)
    if name == "Placement":  # devices and strategy (rnn_tui.train.distribute)
        from rnn_tui.train.distribute import Placement

        return Placement
    raise AttributeError(f"module 'rnn_tui.train' has no attribute {name!r}")
