"""Keras callbacks of the engine: events, the resumable run state, backups, checkpoints.

``keras_callbacks.make_callbacks`` builds them (that module imports Keras; the engine imports
it inside a function) and returns them by role as an ``EngineCallbacks``, whose
``as_list()`` is the order that keeps the run folder consistent when the process dies at
any instant:

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
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np


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


def save_weights_checked(model: Any, temp: Path, needed: int) -> None:
    """``model.save_weights(temp)`` after checking for room; no partial file stays."""
    ensure_room(temp.parent, needed)
    try:
        model.save_weights(str(temp), overwrite=True)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@dataclass
class EngineCallbacks:
    """The engine's callbacks by role; ``as_list()`` gives them in their required order
    (see the module docstring), with any ``extra`` ones (tests, hooks) last.

    ``callbacks + [other]`` is a copy with ``other`` added to ``extra``.
    """

    events: Any
    run_state: Any
    backup: Any
    best: Any = None
    early_stopping: Any = None
    extra: list[Any] = field(default_factory=list)

    def as_list(self) -> list[Any]:
        ordered = [self.events, self.run_state, self.best, self.early_stopping, self.backup]
        return [callback for callback in ordered if callback is not None] + list(self.extra)

    def __add__(self, others: list[Any]) -> EngineCallbacks:
        return replace(self, extra=[*self.extra, *others])

    def __iter__(self):
        return iter(self.as_list())


def _seed_variables(model: Any) -> list[Any]:
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def seed_states(model: Any) -> np.ndarray:
    """The state of every seed generator (dropout masks), in the model's variable order."""
    states = [np.asarray(v.numpy()) for v in _seed_variables(model)]
    return np.stack(states) if states else np.zeros((0, 2), dtype=np.int64)


def set_seed_states(model: Any, states: np.ndarray) -> None:
    variables = _seed_variables(model)
    if len(variables) != len(states):
        return  # another model shape: leave the fresh seeds
    for variable, state in zip(variables, states):
        variable.assign(state.astype(variable.dtype))


def as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def floats(logs: dict[str, Any] | None) -> dict[str, float]:
    return {str(key): value for key, value in ((k, as_float(v)) for k, v in (logs or {}).items())
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
