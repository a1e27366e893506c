"""One line of progress for slow work: a spinner, what is happening, a bar when the amount
is known, and the seconds so far ("⠹ evaluating imdb-sentiment:1 · scoring ███░░ 40/98 ·
12 s").

The owner calls ``stage(text, done, total)`` as the work reports (from a worker: through
``call_from_thread``); the line ticks by itself, so a stage that takes long still shows life.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from rnn_tui.tui.verdicts import bar, printable

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TICK_S = 0.25
BAR_CELLS = 16


def progress_text(title: str, stage: str, done: int, total: int, seconds: float,
                  frame: int = 0) -> Text:
    """The line's text (a function, so it can be tested without an app).

    >>> progress_text("evaluating m:1", "scoring", 1, 4, 2.4).plain
    '⠋ evaluating m:1 · scoring ████░░░░░░░░░░░░ 1/4 · 2 s'
    """
    text = Text(SPINNER[frame % len(SPINNER)] + " ", style="bold")
    text.append(printable(title))
    if stage:
        text.append(" · " + printable(stage), style="dim")
    if total:
        text.append(" ")
        text.append_text(bar(done / total, BAR_CELLS))
        text.append(f" {done:,}/{total:,}")
    text.append(f" · {seconds:.0f} s", style="dim")
    return text


class ProgressLine(Static):
    """A ticking progress line; ``stage()`` updates it, ``stop()`` freezes it."""

    def __init__(self, title: str, stage: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self._stage, self._done, self._total = stage, 0, 0
        self._started = time.monotonic()
        self._frame = 0
        self._timer = None

    def on_mount(self) -> None:
        self._draw()
        self._timer = self.set_interval(TICK_S, self._tick)

    def restart(self, title: str, stage: str = "") -> None:
        """The same line for new work: the seconds count from now."""
        self.title, self._started = title, time.monotonic()
        self.stage(stage)
        if self._timer is not None:
            self._timer.resume()

    def stage(self, text: str, done: int = 0, total: int = 0) -> None:
        self._stage, self._done, self._total = text, done, total
        self._draw()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started

    def _tick(self) -> None:
        self._frame += 1
        self._draw()

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        self.update(progress_text(self.title, self._stage, self._done, self._total,
                                  self.seconds, self._frame))
