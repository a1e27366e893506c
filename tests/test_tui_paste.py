"""Bracketed pastes reach the app as one Paste event, in order, whatever bytes they hold.

These feed the bytes a terminal sends to the parser the app's driver uses; the real-terminal
check (tmux paste-buffer into the running app) is in test_tui_terminal.py.
"""

from __future__ import annotations

import sys
import time

import pytest
from textual import events

from rnn_tui.tui.paste_guard import PASTE_END, PASTE_START, PasteSafeParser

HOSTILE = "A\x07B \x1b]0;title\x07 C\x1b[31mD\x1b[2J\x1bPq\x1b\\E"


def tokens(parser: PasteSafeParser, *chunks: str) -> list:
    out = []
    for chunk in chunks:
        out += list(parser.feed(chunk))
    return out


def keys_and_pastes(messages: list) -> list[tuple[str, str]]:
    return [("key", message.key) if isinstance(message, events.Key) else
            ("paste", message.text) for message in messages
            if isinstance(message, (events.Key, events.Paste))]


def test_a_paste_with_bel_and_escape_sequences_is_one_paste_in_order():
    got = keys_and_pastes(tokens(PasteSafeParser(), "x" + PASTE_START + HOSTILE + PASTE_END
                                 + "y"))
    assert got == [("key", "x"), ("paste", HOSTILE), ("key", "y")]
    assert ("key", "ctrl+g") not in got


@pytest.mark.parametrize("split", range(1, len(PASTE_START + HOSTILE + PASTE_END)))
def test_a_paste_split_across_reads_stays_whole(split):
    stream = PASTE_START + HOSTILE + PASTE_END
    got = keys_and_pastes(tokens(PasteSafeParser(), stream[:split], stream[split:], "z"))
    assert got == [("paste", HOSTILE), ("key", "z")]


def test_keys_outside_pastes_are_keys():
    got = keys_and_pastes(tokens(PasteSafeParser(), "a\x07\x1b[A"))
    assert got == [("key", "a"), ("key", "ctrl+g"), ("key", "up")]  # a typed Ctrl+G is one


def test_a_lone_escape_is_the_escape_key():
    parser = PasteSafeParser()
    assert keys_and_pastes(tokens(parser, "\x1b")) == []
    time.sleep(0.15)
    assert keys_and_pastes(list(parser.tick())) == [("key", "escape")]


def test_half_a_start_marker_that_is_not_one_goes_through():
    parser = PasteSafeParser()
    assert keys_and_pastes(tokens(parser, "\x1b[2")) == []  # might be a paste: held
    got = keys_and_pastes(tokens(parser, "~"))
    assert got == [("key", "insert")]  # ESC [ 2 ~ is the Insert key


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX driver")
def test_the_app_reads_the_terminal_through_the_guard():
    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.paste_guard import PasteSafeDriver

    assert RnnTuiApp().driver_class is PasteSafeDriver
