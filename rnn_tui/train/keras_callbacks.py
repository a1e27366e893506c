"""The engine's Keras callbacks, one class each (see ``rnn_tui.train.callbacks``).

This module imports Keras (through ``rnn_tui.backend``) when it is imported: only
``callbacks.make_callbacks`` imports it, inside the call, so nothing on an instant path pays
for TensorFlow.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.backend import keras as _get_keras
from rnn_tui.fileio import atomic_path, atomic_write_text
from rnn_tui.train.callbacks import (
    BATCH_EVENT_INTERVAL_S,
    EngineCallbacks,
    TrainingCancelled,
    as_float,
    ensure_room,
    floats,
    save_weights_checked,
    seed_states,
    set_seed_states,
    weights_file_bytes,
)
from rnn_tui.train.events import BatchEnded, CheckpointSaved, EpochEnded, EpochStarted, Event

keras = _get_keras()


class EventCallback(keras.callbacks.Callback):
    """Keras' hooks as typed events (EpochStarted, BatchEnded at most every 0.2 s,
    EpochEnded), and the user's request to stop (``should_stop``) honoured per batch."""

    # Keras dispatches batch hooks of async-safe callbacks on a worker thread, so the
    # training loop never waits for the logs to be read back (throughput).
    async_safe = True

    def __init__(self, on_event: Callable[[Event], None], *, epochs: int,
                 steps_per_epoch: int, train_rows: int,
                 should_stop: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self._on_event = on_event
        self._epochs = epochs
        self._steps_per_epoch = steps_per_epoch
        self._train_rows = train_rows
        self._should_stop = should_stop
        self._lock = threading.Lock()
        self._epoch = 0
        self._epoch_started = 0.0
        self._last_emit = 0.0
        self._last_step = 0

    def _check_cancel(self) -> None:
        if self._should_stop is not None and self._should_stop():
            raise TrainingCancelled()

    def on_epoch_begin(self, epoch, logs=None):
        self._check_cancel()
        with self._lock:
            self._epoch = epoch + 1
            self._epoch_started = time.perf_counter()
            self._last_emit = 0.0
            self._last_step = 0
        self._on_event(EpochStarted(epoch=epoch + 1, epochs=self._epochs))

    def on_train_batch_end(self, batch, logs=None):
        self._check_cancel()
        step = batch + 1
        now = time.perf_counter()
        # Emitted under the lock: hooks may run on several worker threads, and the
        # stream must still show steps in order.
        with self._lock:
            last = step >= self._steps_per_epoch
            if step <= self._last_step or (
                    not last and now - self._last_emit < BATCH_EVENT_INTERVAL_S):
                return
            self._last_emit = now
            self._last_step = step
            self._on_event(BatchEnded(epoch=self._epoch, step=step,
                                      steps=self._steps_per_epoch, logs=floats(logs)))

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._epoch_started
        self._on_event(EpochEnded(epoch=epoch + 1, epochs=self._epochs, logs=floats(logs),
                                  seconds=round(seconds, 3),
                                  samples_per_second=round(self._train_rows / seconds, 1)
                                  if seconds > 0 else None))

class RunStateCallback(keras.callbacks.Callback):
    """Each finished epoch's logs and seconds into the run folder's ``state.json``."""

    def __init__(self, run_state: Any) -> None:
        super().__init__()
        self._run_state = run_state
        self._epoch_started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._run_state.record_epoch(epoch + 1, floats(logs),
                                     time.perf_counter() - self._epoch_started)

class BestCheckpoint(keras.callbacks.ModelCheckpoint):
    """``best.weights.h5`` whenever val_loss improves, written beside and renamed into place
    (a CheckpointSaved event each time)."""

    async_safe = True  # saves per epoch only; its batch hook does nothing then

    def __init__(self, path: Path, initial_best: float | None,
                 on_event: Callable[[Event], None]) -> None:
        self._on_event = on_event
        self._final_path = Path(path)
        # Keras wants the name to end in .weights.h5; write beside, then rename.
        self._temp_path = self._final_path.with_name("saving." + self._final_path.name)
        super().__init__(str(self._temp_path), monitor="val_loss", save_best_only=True,
                         save_weights_only=True, initial_value_threshold=initial_best)

    def _save_model(self, epoch, batch, logs):
        before = self.best
        ensure_room(self._temp_path.parent, weights_file_bytes(self.model))
        try:
            super()._save_model(epoch, batch, logs)
        except BaseException:
            self._temp_path.unlink(missing_ok=True)
            raise
        if self.best is not before and self._temp_path.exists():
            os.replace(self._temp_path, self._final_path)
            self._on_event(CheckpointSaved(path=str(self._final_path), epoch=epoch + 1,
                                           metric="val_loss", value=as_float(self.best)))

class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that starts from an interrupted run's state (best value, patience
    used, best weights) instead of from scratch."""

    def __init__(self, patience: int, restore_best_weights: bool,
                 resume: dict[str, Any] | None) -> None:
        super().__init__(monitor="val_loss", patience=patience,
                         restore_best_weights=restore_best_weights)
        self._resume = resume

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._resume:
            self.best = self._resume["best"]
            self.best_epoch = self._resume["best_epoch"]
            self.wait = self._resume["wait"]
            self.best_weights = self._resume.get("best_weights")

class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose epoch number and weights are replaced in one step.

    Keras writes ``latest.weights.h5`` then ``training_metadata.json``; a kill between
    the two pairs new weights with an old epoch number. Here each backup goes to its own
    ``epoch-<k>.weights.h5``, and the metadata naming it is swapped in atomically.
    """

    async_safe = True  # saves per epoch only

    def __init__(self, backup_dir: Path) -> None:
        super().__init__(str(backup_dir), save_freq="epoch", delete_checkpoint=False)
        self._dir = Path(backup_dir)

    def _load_model(self):
        metadata_path = self._dir / "training_metadata.json"
        if not metadata_path.exists():
            return
        metadata = json.loads(metadata_path.read_text())
        weights = self._dir / metadata["weights"]
        if not weights.exists():
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(str(weights))
        rng = metadata.get("rng")
        if rng and (self._dir / rng).exists():
            set_seed_states(self.model, np.load(self._dir / rng, allow_pickle=False))
        self.model._initial_epoch = int(metadata["epoch"])

    def _save_model(self):
        self._dir.mkdir(parents=True, exist_ok=True)
        epoch = self._current_epoch
        name = f"epoch-{epoch}.weights.h5"
        temp = self._dir / f"saving-{epoch}.weights.h5"
        save_weights_checked(self.model, temp, weights_file_bytes(self.model))
        os.replace(temp, self._dir / name)
        # Dropout masks come from seed generators whose state Keras does not save with
        # the weights; without it a resumed run would draw other masks.
        rng = f"epoch-{epoch}.rng.npy"
        with atomic_path(self._dir / rng) as temp_rng:
            with open(temp_rng, "wb") as handle:
                np.save(handle, seed_states(self.model), allow_pickle=False)
        atomic_write_text(self._dir / "training_metadata.json",
                          json.dumps({"epoch": epoch, "weights": name, "rng": rng}))
        for old in [*self._dir.glob("epoch-*.weights.h5"),
                    *self._dir.glob("epoch-*.rng.npy")]:
            if old.name not in (name, rng):
                old.unlink(missing_ok=True)


def make_callbacks(
    *,
    keras: Any,
    on_event: Callable[[Event], None],
    run_state: Any,
    epochs: int,
    steps_per_epoch: int,
    train_rows: int,
    backup_dir: Path,
    best_path: Path | None,
    early_stopping: dict[str, Any] | None,
    should_stop: Callable[[], bool] | None = None,
) -> EngineCallbacks:
    """The engine's callbacks by role (``keras``: the Keras module, for callers that wrap
    this function and add callback classes of their own)."""
    best = None
    if best_path is not None:
        best = BestCheckpoint(best_path, run_state.best_value(), on_event)
    stopping = None
    if early_stopping is not None:
        stopping = ResumableEarlyStopping(
            early_stopping["patience"], early_stopping["restore_best_weights"],
            early_stopping.get("resume"))
    return EngineCallbacks(
        events=EventCallback(on_event, epochs=epochs, steps_per_epoch=steps_per_epoch,
                                     train_rows=train_rows, should_stop=should_stop),
        run_state=RunStateCallback(run_state),
        backup=AtomicBackupAndRestore(backup_dir), best=best, early_stopping=stopping)
