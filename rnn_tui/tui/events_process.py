"""An ``rnn-tui`` command run with ``--json`` (train, evaluate, teach) as a subprocess: its
events in, SIGINT out.

Training runs in its own process so that TensorFlow's import, threads and log lines stay out
of the UI process, and so that cancelling is the engine's own Ctrl-C path: SIGINT makes it
stop, publish nothing and keep its resume backup (the engine's guarantee). The TUI reads the
events in a worker thread. Plain Python; no Textual.

>>> process = EventsProcess(["train", "--dataset", "multiplication", "--epochs", "1"])
>>> for event in process.run():                             # doctest: +SKIP
...     print(type(event).__name__)
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import select
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

STDERR_LINES_KEPT = 40
CANCEL_GRACE_S = 20.0  # the engine finishes its step and cleans up before exiting
READ_TIMEOUT_S = 0.2  # how soon a reader notices it was detached


_running: weakref.WeakSet[EventsProcess] = weakref.WeakSet()


@atexit.register
def _cancel_leftovers() -> None:
    """However the app ends (even by a crash), no training process outlives it."""
    for process in list(_running):
        process.cancel()


def cancel_leftovers_now() -> list[EventsProcess]:
    """Ask every run not detached to stop (SIGINT), without waiting: for an app that is
    leaving; each run cleans up in its own process. Returns those asked."""
    asked = list(_running)
    for process in asked:
        process.request_cancel()
        process.detach()  # its reader returns; it is no longer this process' to wait for
    return asked


class EventsProcess:
    """One CLI subprocess that writes JSON events on stdout.

    Args:
        arguments: the CLI arguments after ``rnn-tui`` (``["train", "--dataset", ...]``);
            ``--json`` is added.
        env: extra environment variables (tests point RNN_TUI_HOME at a tmp dir this way,
            though the parent's environment is inherited anyway).
        more_events: event name -> class, for a command with events of its own besides
            the training ones (``tune``'s ``TrialsChanged``).
    """

    def __init__(self, arguments: list[str], env: dict[str, str] | None = None,
                 more_events: dict[str, Any] | None = None) -> None:
        self.arguments = list(arguments)
        self.env = env
        self.more_events = dict(more_events or {})
        self.process: subprocess.Popen[str] | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
        self.other_output: list[str] = []
        self.cancel_requested = False
        self.detached = False
        self._stderr_reader: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "rnn_tui", *self.arguments, "--json"]

    def start(self) -> None:
        environment = dict(os.environ)
        environment.update(self.env or {})
        environment.setdefault("PYTHONUNBUFFERED", "1")
        # SIGINT is how this class cancels: make sure the child honours it (see cli/train.py)
        environment["RNN_TUI_SIGINT_CANCELS"] = "1"
        with self._lock:
            if self.cancel_requested:
                return
            self.process = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL, text=True, encoding="utf-8", errors="replace",
                env=environment, bufsize=1,
                # Its own process group: a Ctrl-C typed in the terminal reaches the TUI only,
                # and the TUI decides what to cancel.
                start_new_session=True,
            )
            _running.add(self)
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True,
                                               name="train-stderr")
        self._stderr_reader.start()

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_tail.append(line.rstrip("\n"))

    def events(self) -> Iterator[Any]:
        """Yield each event the process writes, until its stdout closes (or ``detach``).

        The pipe is read with a timeout, not a blocking read, so that detaching returns at
        once: a blocked reader thread would keep the app from exiting until the run ends.
        """
        if self.process is None or self.process.stdout is None:
            return
        descriptor = self.process.stdout.fileno()
        pending = b""
        while not self.detached:
            ready, _, _ = select.select([descriptor], [], [], READ_TIMEOUT_S)
            if not ready:
                continue
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                event = self._parse(line)
                if event is not None:
                    yield event
        if pending and not self.detached:
            event = self._parse(pending)
            if event is not None:
                yield event

    def _parse(self, raw: bytes) -> Any:
        from rnn_tui.train.events import event_from_dict

        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            return None
        try:
            data = json.loads(line)
            kind = self.more_events.get(data.get("event")) if isinstance(data, dict) else None
            return kind.from_dict(data) if kind is not None else event_from_dict(data)
        except (ValueError, TypeError, AttributeError):
            self.other_output.append(line)  # a JSON result (evaluate) or stray text
            return None

    def result(self) -> dict[str, Any] | None:
        """The JSON object the command printed besides its events (``evaluate --json``'s
        report), or None when there is none."""
        try:
            document = json.loads("\n".join(self.other_output))
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def detach(self) -> None:
        """Leave the run training on its own: stop reading it, and do not cancel it when
        this program exits. (It keeps logging its events: ``rnn-tui runs`` follows it.)"""
        self.detached = True
        _running.discard(self)

    def wait(self) -> int:
        """Wait for the exit; returns the exit code (-1 when never started)."""
        if self.process is None:
            return -1
        code = self.process.wait()
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=2)
        return code

    def follow(self, on_event: Callable[[Any], None],
               on_started: Callable[[EventsProcess], None] | None = None
               ) -> tuple[int, str] | None:
        """Start, hand each event to ``on_event``, wait. Returns (exit code, the error output
        kept), or None when the run was detached (it goes on alone; the app is leaving).
        A Python that cannot be started at all is exit code -1, its error kept."""
        try:
            self.start()
            if on_started is not None:
                on_started(self)
            for event in self.events():
                on_event(event)
            if self.detached:
                return None
            code = self.wait()
        except OSError as error:
            self.stderr_tail.append(str(error))
            code = -1
        return code, "\n".join(self.stderr_tail)

    def run(self) -> Iterator[Any]:
        """Start, yield the events, wait."""
        self.start()
        yield from self.events()
        self.wait()

    def request_cancel(self) -> subprocess.Popen[str] | None:
        """Ask the run to stop as Ctrl-C would, and return at once (the process, or None
        when it is not running). Safe from any thread, before or after ``start``."""
        with self._lock:
            self.cancel_requested = True
            process = self.process
        if process is None or process.poll() is not None:
            return None
        try:
            process.send_signal(signal.SIGINT)
        except ProcessLookupError:
            return None
        return process

    def cancel(self) -> None:
        """Ask the run to stop as Ctrl-C would; escalate if it does not within the grace time.

        Safe to call from any thread, before or after ``start``.
        """
        process = self.request_cancel()
        if process is None:
            return
        try:
            process.wait(timeout=CANCEL_GRACE_S)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        except ProcessLookupError:
            pass
