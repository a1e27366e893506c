"""Keras callbacks of the engine: events, the resumable run state, backups, checkpoints.

They are built by ``make_callbacks`` inside a function (Keras is imported lazily), in the
order that keeps the run folder consistent when the process dies at any instant:

1. ``EventCallback``: turns Keras' hooks into typed events (and honours cancellation).
2. ``RunStateCallback``: appends the epoch's logs to ``state.json`` (atomically).
3. ``BestCheckpoint`` (a ``keras.callbacks.ModelCheckpoint``): ``best.weights.h5`` whenever
   val_loss improves, written beside and renamed into place.
4. ``ResumableEarlyStopping`` (a ``keras.callbacks.EarlyStopping``): starts from the state
   of the interrupted run (best value, patience used, best weights) instead of from scratch.
5. ``AtomicBackupAndRestore`` (a ``keras.callbacks.BackupAndRestore``): the weights and
   optimizer state after every epoch, with the epoch number in the same atomic step.

Because the state is written before the backup, ``state.json`` never knows fewer epochs than
the backup; on resume the history is cut to the backup's epoch.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.fileio import atomic_path, atomic_write_text
from rnn_tui.train.events import (
    BatchEnded,
    CheckpointSaved,
    EpochEnded,
    EpochStarted,
    Event,
)

BATCH_EVENT_INTERVAL_S = 0.2


class TrainingCancelled(Exception):
    """Raised inside ``fit`` when the user asked to stop (not a KeyboardInterrupt subclass,
    so callers can tell a request from the TUI from a Ctrl-C; both end the same way)."""


def read_backup_epoch(backup_dir: Path) -> int:
    """Epochs finished according to the backup (0 when there is none)."""
    try:
        metadata = json.loads((backup_dir / "training_metadata.json").read_text())
        weights = backup_dir / metadata["weights"]
        return int(metadata["epoch"]) if weights.exists() else 0
    except (FileNotFoundError, KeyError, ValueError, TypeError):
        return 0


def weights_file_bytes(model: Any) -> int:
    """About how large a .weights.h5 of ``model`` (and its optimizer state) will be."""
    variables = list(model.variables)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        variables += list(getattr(optimizer, "variables", []))
    data = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)
    return int(data * 1.1) + (256 << 10)  # HDF5's own structures


def ensure_room(folder: Path, needed: int) -> None:
    """Raise OSError(ENOSPC/EFBIG) unless ``needed`` bytes fit in ``folder``.

    Checked before every weights file: h5py crashes the whole process (a segmentation
    fault) when a write fails half-way on a full disk, where a Python error can be reported
    and the run resumed once there is room.
    """
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell: let the write find out
    if free < needed:
        raise OSError(errno.ENOSPC, f"{free:,} bytes free, about {needed:,} needed for the "
                      "next checkpoint", str(folder))
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        return
    if limit != resource.RLIM_INFINITY and limit < needed:
        raise OSError(errno.EFBIG, f"files may hold {limit:,} bytes (ulimit -f), the next "
                      f"checkpoint needs about {needed:,}", str(folder))


def _save_weights_checked(model: Any, temp: Path, needed: int) -> None:
    """``model.save_weights(temp)`` after checking for room; no partial file stays."""
    ensure_room(temp.parent, needed)
    try:
        model.save_weights(str(temp), overwrite=True)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
) -> list[Any]:
    """The engine's callbacks, in their required order (see the module docstring)."""

    class EventCallback(keras.callbacks.Callback):
        # Keras dispatches batch hooks of async-safe callbacks on a worker thread, so the
        # training loop never waits for the logs to be read back (throughput).
        async_safe = True

        def __init__(self) -> None:
            super().__init__()
            self._lock = threading.Lock()
            self._epoch = 0
            self._epoch_started = 0.0
            self._last_emit = 0.0
            self._last_step = 0

        def _check_cancel(self) -> None:
            if should_stop is not None and should_stop():
                raise TrainingCancelled()

        def on_epoch_begin(self, epoch, logs=None):
            self._check_cancel()
            with self._lock:
                self._epoch = epoch + 1
                self._epoch_started = time.perf_counter()
                self._last_emit = 0.0
                self._last_step = 0
            on_event(EpochStarted(epoch=epoch + 1, epochs=epochs))

        def on_train_batch_end(self, batch, logs=None):
            self._check_cancel()
            step = batch + 1
            now = time.perf_counter()
            # Emitted under the lock: hooks may run on several worker threads, and the
            # stream must still show steps in order.
            with self._lock:
                last = step >= steps_per_epoch
                if step <= self._last_step or (
                        not last and now - self._last_emit < BATCH_EVENT_INTERVAL_S):
                    return
                self._last_emit = now
                self._last_step = step
                on_event(BatchEnded(epoch=self._epoch, step=step, steps=steps_per_epoch,
                                    logs=_floats(logs)))

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self._epoch_started
            on_event(EpochEnded(epoch=epoch + 1, epochs=epochs, logs=_floats(logs),
                                seconds=round(seconds, 3),
                                samples_per_second=round(train_rows / seconds, 1)
                                if seconds > 0 else None))

    class RunStateCallback(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self._epoch_started = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            run_state.record_epoch(epoch + 1, _floats(logs),
                                   time.perf_counter() - self._epoch_started)

    class BestCheckpoint(keras.callbacks.ModelCheckpoint):
        async_safe = True  # saves per epoch only; its batch hook does nothing then

        def __init__(self, path: Path, initial_best: float | None) -> None:
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
                on_event(CheckpointSaved(path=str(self._final_path), epoch=epoch + 1,
                                         metric="val_loss", value=_float(self.best)))

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
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
                _set_seed_states(self.model, np.load(self._dir / rng, allow_pickle=False))
            self.model._initial_epoch = int(metadata["epoch"])

        def _save_model(self):
            self._dir.mkdir(parents=True, exist_ok=True)
            epoch = self._current_epoch
            name = f"epoch-{epoch}.weights.h5"
            temp = self._dir / f"saving-{epoch}.weights.h5"
            _save_weights_checked(self.model, temp, weights_file_bytes(self.model))
            os.replace(temp, self._dir / name)
            # Dropout masks come from seed generators whose state Keras does not save with
            # the weights; without it a resumed run would draw other masks.
            rng = f"epoch-{epoch}.rng.npy"
            with atomic_path(self._dir / rng) as temp_rng:
                with open(temp_rng, "wb") as handle:
                    np.save(handle, _seed_states(self.model), allow_pickle=False)
            atomic_write_text(self._dir / "training_metadata.json",
                              json.dumps({"epoch": epoch, "weights": name, "rng": rng}))
            for old in [*self._dir.glob("epoch-*.weights.h5"), *self._dir.glob("epoch-*.rng.npy")]:
                if old.name not in (name, rng):
                    old.unlink(missing_ok=True)

    callbacks: list[Any] = [EventCallback(), RunStateCallback()]
    if best_path is not None:
        callbacks.append(BestCheckpoint(best_path, run_state.best_value()))
    if early_stopping is not None:
        callbacks.append(ResumableEarlyStopping(
            early_stopping["patience"], early_stopping["restore_best_weights"],
            early_stopping.get("resume")))
    callbacks.append(AtomicBackupAndRestore(backup_dir))
    return callbacks


def _seed_variables(model: Any) -> list[Any]:
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _seed_states(model: Any) -> np.ndarray:
    """The state of every seed generator (dropout masks), in the model's variable order."""
    states = [np.asarray(v.numpy()) for v in _seed_variables(model)]
    return np.stack(states) if states else np.zeros((0, 2), dtype=np.int64)


def _set_seed_states(model: Any, states: np.ndarray) -> None:
    variables = _seed_variables(model)
    if len(variables) != len(states):
        return  # another model shape: leave the fresh seeds
    for variable, state in zip(variables, states):
        variable.assign(state.astype(variable.dtype))


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _floats(logs: dict[str, Any] | None) -> dict[str, float]:
    return {str(key): value for key, value in ((k, _float(v)) for k, v in (logs or {}).items())
            if value is not None}


def early_stopping_resume_state(values: list[float], patience: int) -> dict[str, Any] | None:
    """Replay Keras' EarlyStopping over the val_loss of finished epochs: best, best_epoch,
    wait (0-based epochs), so a resumed run stops exactly where an uninterrupted one would.

    >>> early_stopping_resume_state([0.5, 0.4, 0.45, 0.46], patience=3)
    {'best': 0.4, 'best_epoch': 1, 'wait': 2}
    """
    if not values:
        return None
    best = None
    best_epoch = 0
    wait = 0
    for epoch, current in enumerate(values):
        wait += 1
        if best is None or current < best:
            best, best_epoch, wait = current, epoch, 0
    return {"best": best, "best_epoch": best_epoch, "wait": wait}
