"""Run folders: what an interrupted training needs to continue where it stopped.

``runs_root()/<name>/`` holds::

    config.json         the TrainConfig (a re-run must match it, or pass --restart)
    state.json          epochs done, the history so far, seconds per epoch, sessions,
                        the global batch size (a resume must keep it)
    vocabulary.json     the fitted vocabulary (a resumed run reuses the exact ids)
    backup/             keras BackupAndRestore state after the last finished epoch
    best.weights.h5     the best weights so far (val_loss)
    final.weights.h5    written when fit() has finished, before evaluation and publishing
    .lock               held while a process trains this run

The folder is deleted after a successful publish. A cancelled or killed run keeps it.

>>> import tempfile, pathlib
>>> run = RunFolder(pathlib.Path(tempfile.mkdtemp()) / "demo")
>>> run.epochs_done, run.exists
(0, False)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rnn_tui.errors import UserError
from rnn_tui.fileio import atomic_write_text
from rnn_tui.train.callbacks import read_backup_epoch
from rnn_tui.train.config import TrainConfig

STATE_VERSION = 1


class RunFolder:
    """One run's folder (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.state: dict[str, Any] = self._read_state()
        self._lock = None

    # ------------------------------------------------------------------ paths
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    @property
    def vocabulary_path(self) -> Path:
        return self.path / "vocabulary.json"

    @property
    def backup_dir(self) -> Path:
        return self.path / "backup"

    @property
    def best_path(self) -> Path:
        return self.path / "best.weights.h5"

    @property
    def final_path(self) -> Path:
        return self.path / "final.weights.h5"

    @property
    def exists(self) -> bool:
        return self.config_path.exists()

    # ------------------------------------------------------------------ locking
    def lock(self) -> None:
        """Hold the run for this process; a second trainer of the same name is refused."""
        from filelock import Timeout

        from rnn_tui.registry.locking import interprocess_lock

        self.path.mkdir(parents=True, exist_ok=True)
        # The kind follows RNN_TUI_LOCK, as the registry's (a run folder may be on NFS).
        lock = interprocess_lock(self.path / ".lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise UserError(f"another rnn-tui process is training the run {self.path.name!r} "
                            f"({self.path}); wait for it or pick another --name") from None
        self._lock = lock

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ------------------------------------------------------------------ config
    def saved_config(self) -> TrainConfig | None:
        if not self.exists:
            return None
        try:
            return TrainConfig.from_dict(json.loads(self.config_path.read_text("utf-8")))
        except (ValueError, UserError, TypeError):
            return None  # unreadable (an older format): treated as a different config

    def check_or_start(self, config: TrainConfig, restart: bool) -> int:
        """Compare with the saved config; returns the epochs already done (0 = fresh).

        A different config is refused unless ``restart``, which discards the old run (a run
        that never finished an epoch is replaced without asking).
        """
        saved = self.saved_config() if self.exists else None
        if self.exists and (restart or saved is None or saved.identity() != config.identity()):
            # A run that never finished an epoch holds nothing worth keeping.
            nothing_done = read_backup_epoch(self.backup_dir) == 0 and not self.fit_finished
            if not restart and not nothing_done:
                changes = config.differences(saved) if saved is not None else ["(unreadable)"]
                shown = "; ".join(changes[:6]) + (" ..." if len(changes) > 6 else "")
                raise UserError(
                    f"a run named {self.path.name!r} with a different configuration is "
                    f"unfinished in {self.path} (changed: {shown}); add --restart to discard "
                    "it, or give another --name")
            self.discard(keep_lock=True)
        if not self.exists:
            self.discard(keep_lock=True)  # what a process killed while deleting a run left
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.config_path,
                              json.dumps(config.to_dict(), ensure_ascii=False, indent=2))
            self.state = self._new_state()
            self._write_state()
            return 0
        done = read_backup_epoch(self.backup_dir)
        self._cut_history(done)
        return done

    # ------------------------------------------------------------------ state
    def _new_state(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "epochs_done": 0, "history": {},
                "epoch_seconds": [], "sessions": 0, "fit_finished": False,
                "started": None, "train_seconds": 0.0}

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_path.read_text("utf-8"))
            if isinstance(state, dict) and state.get("version") == STATE_VERSION:
                return state
        except (FileNotFoundError, ValueError):
            pass
        return self._new_state()

    def _write_state(self) -> None:
        atomic_write_text(self.state_path, json.dumps(self.state, indent=1))

    def _cut_history(self, epochs: int) -> None:
        """Keep the first ``epochs`` entries: the backup is the truth about what finished."""
        self.state["history"] = {k: v[:epochs] for k, v in self.state["history"].items()}
        self.state["epoch_seconds"] = self.state["epoch_seconds"][:epochs]
        self.state["epochs_done"] = epochs
        self._write_state()

    def begin_session(self, started: str, global_batch_size: int | None = None) -> None:
        self.state["sessions"] = int(self.state.get("sessions", 0)) + 1
        self.state["started"] = self.state.get("started") or started
        if global_batch_size is not None:
            self.state["global_batch_size"] = global_batch_size
        self._write_state()

    def check_global_batch(self, global_batch_size: int) -> None:
        """A resumed run must keep its global batch (per-replica batch x replicas): with
        another device count the remaining epochs would train differently."""
        recorded = self.state.get("global_batch_size")
        if self.epochs_done and recorded is not None and recorded != global_batch_size:
            raise UserError(
                f"the unfinished run {self.path.name!r} trained with a global batch of "
                f"{recorded} rows per step; this command gives {global_batch_size} (the "
                "per-replica --batch-size times the replicas): use the same devices and "
                "workers to resume, or --restart")

    def record_epoch(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        """Append an epoch's logs (called by RunStateCallback before the backup is saved)."""
        history = self.state["history"]
        for key, value in logs.items():
            series = history.setdefault(key, [])
            del series[epoch - 1:]
            series.append(value)
        del self.state["epoch_seconds"][epoch - 1:]
        self.state["epoch_seconds"].append(round(seconds, 3))
        self.state["epochs_done"] = epoch
        self.state["train_seconds"] = round(sum(self.state["epoch_seconds"]), 3)
        self._write_state()

    def mark_fit_finished(self, stopped_early: bool, best_epoch: int | None) -> None:
        self.state.update(fit_finished=True, stopped_early=stopped_early, best_epoch=best_epoch)
        self._write_state()

    @property
    def epochs_done(self) -> int:
        return int(self.state.get("epochs_done", 0))

    @property
    def history(self) -> dict[str, list[float]]:
        return self.state.get("history", {})

    @property
    def fit_finished(self) -> bool:
        return bool(self.state.get("fit_finished")) and self.final_path.exists()

    def best_value(self) -> float | None:
        """The lowest val_loss so far (the best checkpoint's), or None."""
        values = self.history.get("val_loss") or []
        return min(values) if values and self.best_path.exists() else None

    # ------------------------------------------------------------------ cleanup
    def discard(self, keep_lock: bool = False) -> None:
        """Delete the run folder (after publishing, or on --restart)."""
        if not self.path.exists():
            return
        # config.json first: a folder without it is no run, so a process killed while
        # deleting leaves nothing that a re-run could take for a half-finished run.
        self.config_path.unlink(missing_ok=True)
        for child in self.path.iterdir():
            if keep_lock and child.name == ".lock":
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        if not keep_lock:
            shutil.rmtree(self.path, ignore_errors=True)
        self.state = self._new_state()
