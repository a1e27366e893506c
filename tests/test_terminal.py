"""The one rule for making text safe on a terminal, shared by the CLI and the TUI."""

import pytest

from rnn_tui.terminal import BIDI_CONTROLS, escape
from rnn_tui.tui.verdicts import printable

HOSTILE = ["\x1b[2J", "\x1b]0;title\x07", "over\rwrite", "back\x08", "\x00nul", "\x9bcsi",
           "left\u202eright", "iso\u2066late\u2069"]


@pytest.mark.parametrize("text", HOSTILE)
def test_cli_and_tui_show_no_control_or_bidi_character(text):
    for shown in (escape(text), printable(text), printable(text, keep_newlines=True)):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)
        assert not BIDI_CONTROLS.intersection(shown)


def test_tui_keeps_newlines_only_when_asked_and_turns_tabs_into_spaces():
    assert printable("a\tb\nc") == "a b c"
    assert printable("a\tb\nc", keep_newlines=True) == "a b\nc"
    assert printable("한국어 리뷰 ✨") == "한국어 리뷰 ✨"
