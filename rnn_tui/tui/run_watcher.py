"""Runs started elsewhere, for the Training pane: it follows this home's run logs.

A training started in another terminal, with nohup, or by an earlier session of the app
logs its events (``rnn_tui.train.run_log``); ``RunWatcher.poll()`` returns what each log
gained since the last poll. The app's own subprocesses are left out (``ignore_pid``): their
events arrive through their pipes. Plain Python, no Textual; the pane polls from a worker.

>>> import tempfile
>>> RunWatcher(Path(tempfile.mkdtemp())).poll()
[]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from rnn_tui.train.events import Event
from rnn_tui.train.run_log import TERMINAL, has_ended, host_and_pid, log_paths, read_events

SCAN_LOGS = 50  # the newest logs looked at; older ones have long ended


@dataclass
class LogUpdate:
    """What one run's log gained: its new events, and ``lost`` when the process ended
    without a last event (killed)."""

    path: Path
    name: str
    host: str
    pid: int
    events: list[Event] = field(default_factory=list)
    lost: bool = False


class RunWatcher:
    """Follows the run logs under ``root``.

    The first poll reports only the runs still going (with their whole log, to draw their
    cards); later polls also report runs that started since, whatever became of them.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._offsets: dict[Path, int] = {}
        self._over: set[Path] = set()  # ended, or ignored: never read again
        self._ignored: set[int] = set()
        self._lock = threading.Lock()
        self._first = True

    def ignore_pid(self, pid: int) -> None:
        """Leave out the log of process ``pid`` (one of the app's own runs)."""
        with self._lock:
            self._ignored.add(pid)

    def poll(self) -> list[LogUpdate]:
        updates = []
        with self._lock:
            ignored = set(self._ignored)
        for path in log_paths(self.root)[:SCAN_LOGS]:
            if path in self._over:
                continue
            host, pid = host_and_pid(path)
            if pid in ignored or (self._first and has_ended(path)):
                self._over.add(path)
                continue
            events, self._offsets[path] = read_events(path, self._offsets.get(path, 0))
            update = LogUpdate(path, path.parent.name, host, pid, events)
            if any(isinstance(event, TERMINAL) for event in events):
                self._over.add(path)
            elif has_ended(path):  # the process is gone, and its log has no last word
                events, self._offsets[path] = read_events(path, self._offsets[path])
                update.events += events
                update.lost = not any(isinstance(event, TERMINAL) for event in events)
                self._over.add(path)
            if update.events or update.lost:
                updates.append(update)
        self._first = False
        return updates
