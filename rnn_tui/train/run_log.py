"""Each training run's events as JSON lines, so a run can be followed from elsewhere.

``rnn-tui train`` appends every event it emits (the ``--json`` stream, whatever the output
mode) to ``run_logs_root()/<name>/<started>-<host>-<pid>.jsonl`` as it happens, flushed per
line. Another terminal, a later session or the app reads the file to list runs, show one,
or watch it live (``rnn-tui runs``). The file outlives the run folder (deleted after a
publish), so finished runs keep their history; ``prune`` keeps the newest ``KEEP_RUNS``
finished logs younger than ``KEEP_DAYS`` (run after each training).

A run's status comes from its last event: finished, failed, cancelled; without one it is
running while its process lives (checked on this host by pid), else "ended" (killed).

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> log = RunLogWriter(root, "demo")
>>> log(RunStarted(name="demo", config={}, epochs=2, steps_per_epoch=5, params={}))
>>> log.close()
>>> [run.name for run in list_runs(root)], list_runs(root)[0].status
(['demo'], 'running')
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rnn_tui.errors import UserError
from rnn_tui.train.events import (
    BatchEnded,
    EpochEnded,
    Event,
    Note,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    event_from_dict,
)

SUFFIX = ".jsonl"
KEEP_RUNS = 200
KEEP_DAYS = 30
MAX_LINE_BYTES = 1 << 20  # an event line is small; a longer one is not ours
MAX_LOG_BYTES = 64 << 20  # reading stops here (a run of ~1e5 batches writes far less)
TAIL_BYTES = 64 << 10  # enough for a log's last event
TERMINAL = (RunFinished, RunFailed, RunCancelled)


def this_host() -> str:
    """This machine's name as it appears in log file names."""
    return safe_name(socket.gethostname())


def safe_name(name: str) -> str:
    """A run name as a folder name (run names are registry names; be safe anyway)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    return cleaned or "run"


class RunLogWriter:
    """An ``on_event`` hook that appends each event to the run's log file.

    Events before ``RunStarted`` (which names the run) are held, then written first. A log
    that cannot be written (a full or read-only disk) is given up silently: the run matters
    more than its log.
    """

    def __init__(self, root: Path, fallback_name: str = "run", pid: int | None = None) -> None:
        self.root = Path(root)
        self.fallback_name = fallback_name
        self.pid = pid or os.getpid()  # the process that trains (tests name another)
        self.path: Path | None = None
        self._file: IO[str] | None = None
        self._held: list[Event] = []
        self._broken = False

    def __call__(self, event: Event) -> None:
        if self._broken:
            return
        if self._file is None:
            self._held.append(event)
            if not isinstance(event, (RunStarted, *TERMINAL)):
                return
            name = event.name if isinstance(event, (RunStarted, RunFinished)) \
                else self.fallback_name
            if not self._open(name):
                return
            held, self._held = self._held, []
            for earlier in held:
                self._write(earlier)
            return
        self._write(event)
        if isinstance(event, TERMINAL):
            self.close()

    def _open(self, name: str) -> bool:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        host = this_host()
        folder = self.root / safe_name(name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.path = folder / f"{stamp}-{host}-{self.pid}{SUFFIX}"
            self._file = open(self.path, "a", encoding="utf-8")
        except OSError:
            self._broken = True
            return False
        return True

    def _write(self, event: Event) -> None:
        assert self._file is not None
        try:
            self._file.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
            self._file.flush()
        except (OSError, ValueError):  # ValueError: written after close
            self._broken = True

    def close(self) -> None:
        """Flush to disk and close (also held events of a run that never started)."""
        if self._file is None and self._held and not self._broken:
            if self._open(self.fallback_name):
                for event in self._held:
                    self._write(event)
            self._held = []
        if self._file is not None:
            try:
                os.fsync(self._file.fileno())
                self._file.close()
            except OSError:
                pass
            self._file = None


def read_events(path: Path, offset: int = 0) -> tuple[list[Event], int]:
    """The complete event lines of ``path`` from byte ``offset``, and the offset after them
    (a line still being written waits for the next call); damaged lines are skipped."""
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            data = file.read(max(MAX_LOG_BYTES - offset, 0))
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events: list[Event] = []
    for line in data[:end].splitlines():
        if not line.strip() or len(line) > MAX_LINE_BYTES:
            continue
        try:
            events.append(event_from_dict(json.loads(line)))
        except (ValueError, TypeError, AttributeError):
            continue
    return events, offset + end


@dataclass
class RunRecord:
    """What a run's log says about it (the newest state first in ``list_runs``)."""

    name: str
    path: Path
    host: str
    pid: int
    started: float
    status: str = "running"
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    model_ref: str | None = None
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status != "running"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _head_and_tail(path: Path) -> list[Event]:
    """The first event and those in the last ``TAIL_BYTES`` of a log: enough for a listing
    (name, size, status, progress) without reading a long run's log whole."""
    try:
        size = path.stat().st_size
    except OSError:
        return []
    if size <= 2 * TAIL_BYTES:
        return read_events(path)[0]
    with open(path, "rb") as file:
        first = file.readline(MAX_LINE_BYTES)
    events, _ = read_events(path, size - TAIL_BYTES)
    try:
        head = [event_from_dict(json.loads(first))]
    except (ValueError, TypeError, AttributeError):
        head = []
    return head + events[1:]  # the tail's first line may be the end of a cut one


def read_run(path: Path, whole: bool = True) -> RunRecord:
    """Fold a log into a ``RunRecord`` (``whole=False``: from its head and tail only, so
    notes and the epoch history are partial)."""
    host, pid = host_and_pid(path)
    events = read_events(path)[0] if whole else _head_and_tail(path)
    record = RunRecord(name=path.parent.name, path=path, host=host, pid=pid,
                       started=events[0].time if events else path.stat().st_mtime,
                       events=events)
    for event in events:
        if isinstance(event, RunStarted):
            record.name, record.epochs = event.name, event.epochs
            record.epoch = event.resumed_from
        elif isinstance(event, BatchEnded):
            record.step, record.steps = event.step, event.steps
        elif isinstance(event, EpochEnded):
            record.epoch, record.epochs, record.metrics = event.epoch, event.epochs, event.logs
        elif isinstance(event, Note):
            record.notes.append(event.text)
        elif isinstance(event, RunFinished):
            record.status, record.model_ref = "finished", event.model_ref
            record.metrics = {f"test_{key}": value for key, value in event.test_metrics.items()}
        elif isinstance(event, RunFailed):
            record.status, record.message = "failed", event.message
        elif isinstance(event, RunCancelled):
            record.status = "cancelled"
            record.message = event.message or f"cancelled after epoch {event.epoch}"
    if record.status == "running" and not _still_running(record):
        record.status, record.message = "ended", "its process ended without a last word"
    return record


def _still_running(record: RunRecord) -> bool:
    if record.host == this_host():
        return record.pid > 0 and _process_alive(record.pid)
    try:  # another worker of this home: alive while it keeps writing
        return time.time() - record.path.stat().st_mtime < 600
    except OSError:
        return False


def log_paths(root: Path) -> list[Path]:
    """Every run log under ``root``, newest first."""
    try:
        paths = [path for path in root.glob(f"*/*{SUFFIX}") if path.is_file()]
    except OSError:
        return []
    return sorted(paths, key=lambda path: (path.name.split("-")[0], path.stat().st_mtime),
                  reverse=True)


def list_runs(root: Path) -> list[RunRecord]:
    """Every logged run, newest first (folded from each log's head and tail)."""
    return [read_run(path, whole=False) for path in log_paths(root)]


def find_run(root: Path, name: str) -> RunRecord:
    """The newest run called ``name`` (a UserError that lists the runs otherwise)."""
    for path in log_paths(root):
        if path.parent.name == safe_name(name):
            return read_run(path)
    known = sorted({path.parent.name for path in log_paths(root)})
    raise UserError(f"no run named {name!r} (runs: {', '.join(known) or 'none yet'})")


def host_and_pid(path: Path) -> tuple[str, int]:
    """Where a log's run trains: ``<stamp>-<host>-<pid>.jsonl`` (a host name may hold "-")."""
    _, _, rest = path.stem.partition("-")
    host, _, pid_text = rest.rpartition("-")
    return (host, int(pid_text)) if host and pid_text.isdigit() else ("?", 0)


def stop(run: RunRecord) -> None:
    """Cancel a running run cleanly: SIGTERM to its process, which the engine turns into
    its Ctrl-C path (resume state kept, nothing published). This machine's runs only."""
    import signal

    if run.done:
        raise UserError(f"{run.name} is not running ({run.status})")
    if run.host != this_host():
        raise UserError(f"{run.name} runs on {run.host}: stop it there")
    try:
        os.kill(run.pid, signal.SIGTERM)
    except ProcessLookupError:
        raise UserError(f"{run.name}'s process {run.pid} is gone") from None
    except PermissionError:
        raise UserError(f"{run.name}'s process {run.pid} belongs to another user") from None


def has_ended(path: Path) -> bool:
    """Whether a log's run is over, from its end only (prune must not read whole logs)."""
    try:
        with open(path, "rb") as file:
            file.seek(0, 2)
            file.seek(max(file.tell() - TAIL_BYTES, 0))
            tail = file.read(TAIL_BYTES)
    except OSError:
        return False
    lines = [line for line in tail.splitlines() if line.strip()]
    try:
        last = json.loads(lines[-1]).get("event") if lines else None
    except (ValueError, AttributeError):
        last = None
    if last in {cls.__name__ for cls in TERMINAL}:
        return True
    host, pid = host_and_pid(path)
    return host == this_host() and pid > 0 and not _process_alive(pid)


def prune(root: Path, keep: int = KEEP_RUNS, max_age_days: float = KEEP_DAYS) -> list[Path]:
    """Delete the logs of ended runs beyond the newest ``keep`` of them, or older than
    ``max_age_days``; running ones stay. Returns what was deleted."""
    deleted = []
    cutoff = time.time() - max_age_days * 86400
    ended = 0
    for path in log_paths(root):
        if not has_ended(path):
            continue
        ended += 1
        try:
            old = path.stat().st_mtime < cutoff
        except OSError:
            continue
        if ended > keep or old:
            try:
                path.unlink()
                deleted.append(path)
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()
            except OSError:
                pass
    return deleted
