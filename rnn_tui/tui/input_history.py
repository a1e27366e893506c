"""The chat input's history, kept between sessions (Up and Down walk it, as in a shell).

One JSON string per line in ``paths.input_history_path()``, so any text (newlines, control
characters) round-trips. Reading is bounded (the newest ``MAX_ENTRIES``, from at most
``MAX_BYTES`` of the file's end; a damaged line is skipped). Saving merges with what other
sessions wrote meanwhile, under a lock, and replaces the file atomically: two apps open at
once both keep their lines, and a crash never leaves half a file.

>>> history = InputHistory(None)   # in memory only
>>> history.add("/help"), history.add("/help"), history.entries
(True, False, ['/help'])
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from rnn_tui.fileio import atomic_write_text

MAX_ENTRIES = 1000
MAX_BYTES = 1 << 20  # 1 MiB: far more than MAX_ENTRIES lines of typing
MAX_ENTRY_CHARS = 10_000  # a long pasted review is kept; a pasted book is not
LOCK_TIMEOUT_S = 2.0


def read_entries(path: Path) -> list[str]:
    """The entries in ``path``, oldest first; [] when it is missing or unreadable."""
    try:
        with open(path, "rb") as file:
            file.seek(0, 2)
            size = file.tell()
            file.seek(max(size - MAX_BYTES, 0))
            data = file.read(MAX_BYTES)
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > MAX_BYTES and lines:
        lines = lines[1:]  # the first line read may be the end of a longer one
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, str) and entry:
            entries.append(entry)
    return entries[-MAX_ENTRIES:]


class InputHistory:
    """Sent lines, oldest first: ``entries`` from earlier sessions, then this one's.

    ``path`` None keeps them in memory only.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.entries = read_entries(self.path) if self.path is not None else []
        self._unsaved: list[str] = []
        self._lock = threading.Lock()

    def add(self, text: str) -> bool:
        """Remember a sent line (a repeat of the last one once). True when it was new."""
        if not text or len(text) > MAX_ENTRY_CHARS or (self.entries and
                                                      self.entries[-1] == text):
            return False
        self.entries.append(text)
        del self.entries[:-MAX_ENTRIES]
        with self._lock:
            self._unsaved.append(text)
        return True

    def save(self) -> None:
        """Write this session's new lines after what is on disk now (blocking: a thread).

        Errors (a read-only home, a lock held too long) are swallowed: the history is a
        convenience, and the lines stay in memory for the next try.
        """
        from filelock import Timeout

        from rnn_tui.errors import RnnTuiError
        from rnn_tui.registry.locking import interprocess_lock

        with self._lock:
            unsaved = list(self._unsaved)
        if not unsaved or self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = interprocess_lock(self.path.with_name(self.path.name + ".lock"),
                                     timeout=LOCK_TIMEOUT_S)
            with lock:
                entries = read_entries(self.path)
                for text in unsaved:
                    if not entries or entries[-1] != text:
                        entries.append(text)
                entries = entries[-MAX_ENTRIES:]
                atomic_write_text(self.path, "".join(
                    json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries))
        except (OSError, Timeout, RnnTuiError):  # RnnTuiError: a bad RNN_TUI_LOCK
            return
        with self._lock:
            del self._unsaved[: len(unsaved)]
