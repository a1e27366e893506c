"""Bracketed pastes delivered whole, as one ``Paste`` event, whatever bytes they hold.

Textual's terminal parser (8.x) looks for escape sequences inside a bracketed paste: an ESC
in the pasted text starts a search that, when nothing matches, re-issues the characters as
key presses. So a pasted ``ESC ] 0 ; title BEL`` arrives as keys, before the rest of the
paste (the text is reordered), and its BEL arrives as Ctrl+G, which stops the training runs.
A paste is data, never keys: ``PasteSafeParser`` cuts every paste out of the byte stream
between the terminal's start and end markers and hands the rest to Textual's parser. The
chat input then shows its control characters as visible stand-ins (``printable``).

>>> parser = PasteSafeParser()
>>> [type(event).__name__ for event in parser.feed("\\x1b[200~a\\x07\\x1b]0;b\\x1b[201~")]
['Paste']
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from textual import constants, events
from textual._xterm_parser import XTermParser
from textual.drivers import linux_driver
from textual.message import Message

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
# How long a read that ends in part of a start marker waits for the rest: as long as Textual
# waits to tell the Escape key from the start of a sequence.
HOLD_S = constants.ESCAPE_DELAY


def _partial_suffix(data: str, marker: str) -> int:
    """The length of the longest end of ``data`` that begins ``marker`` (but is not all of it)."""
    for size in range(min(len(marker) - 1, len(data)), 0, -1):
        if marker.startswith(data[-size:]):
            return size
    return 0


class PasteSafeParser(XTermParser):
    """Textual's parser, with bracketed pastes taken out of its hands (see the module)."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._in_paste = False
        self._pasted: list[str] = []
        self._held = ""  # the end of a read that may be the start of a marker
        self._held_at = 0.0

    def feed(self, data: str) -> Iterable[Message]:
        if not data:  # the end of input
            held, self._held = self._held, ""
            if self._in_paste:
                self._in_paste = False
                yield self._paste(held)
            elif held:
                yield from super().feed(held)
            yield from super().feed("")
            return
        data, self._held = self._held + data, ""
        while data:
            if self._in_paste:
                end = data.find(PASTE_END)
                if end < 0:
                    keep = _partial_suffix(data, PASTE_END)
                    self._pasted.append(data[: len(data) - keep])
                    self._held = data[len(data) - keep :]
                    return
                self._in_paste = False
                yield self._paste(data[:end])
                data = data[end + len(PASTE_END) :]
                continue
            start = data.find(PASTE_START)
            if start < 0:
                keep = _partial_suffix(data, PASTE_START)
                if len(data) > keep:
                    yield from super().feed(data[: len(data) - keep])
                if keep:
                    self._held, self._held_at = data[len(data) - keep :], time.monotonic()
                return
            if start:
                yield from super().feed(data[:start])
            self._in_paste = True
            data = data[start + len(PASTE_START) :]

    def tick(self) -> Iterable[Message]:
        if self._held and not self._in_paste and time.monotonic() - self._held_at > HOLD_S:
            held, self._held = self._held, ""  # it was not a paste after all
            if held == "\x1b":  # waited long enough already: the Escape key
                yield events.Key("escape", "\x1b")
            else:
                yield from super().feed(held)
        yield from super().tick()

    def _paste(self, last: str) -> events.Paste:
        text = "".join(self._pasted) + last
        self._pasted.clear()
        return events.Paste(text.replace("\x00", ""))  # NUL: as Textual does


class PasteSafeDriver(linux_driver.LinuxDriver):
    """The POSIX terminal driver, reading input through ``PasteSafeParser``."""

    def run_input_thread(self) -> None:
        # The driver builds its parser by this module-level name, in this method.
        linux_driver.XTermParser = PasteSafeParser  # type: ignore[misc]
        super().run_input_thread()
