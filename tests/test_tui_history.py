"""The input history: kept between sessions, written atomically, shared by two apps."""

from __future__ import annotations

import json

from rnn_tui.paths import input_history_path
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.input_history import MAX_ENTRIES, InputHistory, read_entries
from rnn_tui.tui.widgets.chat_input import ChatInput
from tui_helpers import submit, wait_for


async def test_up_brings_back_what_an_earlier_session_sent():
    first = RnnTuiApp()
    async with first.run_test(size=(80, 24)) as pilot:
        await submit(pilot, "/help data")
        await submit(pilot, "a moving film\nwith a newline")
        await wait_for(pilot, lambda: len(read_entries(input_history_path())) == 2,
                       what="the saved history")
    assert read_entries(input_history_path()) == ["/help data",
                                                  "a moving film\nwith a newline"]
    second = RnnTuiApp()
    async with second.run_test(size=(80, 24)) as pilot:
        chat_input = second.query_one("#input", ChatInput)
        await pilot.press("up")
        assert chat_input.value.startswith("a moving film")
        await pilot.press("up")
        assert chat_input.value == "/help data"
        await pilot.press("down", "down")
        assert chat_input.value == ""


def test_two_sessions_keep_both_their_lines(tmp_path):
    path = tmp_path / "history.jsonl"
    one, two = InputHistory(path), InputHistory(path)
    one.add("/data imdb")
    two.add("/data nsmc")
    one.save()
    two.save()
    assert read_entries(path) == ["/data imdb", "/data nsmc"]
    assert not list(tmp_path.glob(".history.jsonl.*.tmp"))  # no temporary file left


def test_a_damaged_file_is_read_around_and_the_length_is_bounded(tmp_path):
    path = tmp_path / "history.jsonl"
    lines = [json.dumps(f"line {index}") for index in range(MAX_ENTRIES + 50)]
    path.write_text("\n".join(lines[:10] + ["{not json", "\x00\xff", "42"] + lines[10:]) + "\n")
    entries = read_entries(path)
    assert len(entries) == MAX_ENTRIES and entries[-1] == f"line {MAX_ENTRIES + 49}"
    history = InputHistory(path)
    history.add("new")
    history.save()
    assert read_entries(path)[-1] == "new" and len(read_entries(path)) == MAX_ENTRIES


def test_an_unwritable_home_loses_nothing_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = InputHistory(blocker / "history.jsonl")  # its folder cannot be made
    assert history.add("/help")
    history.save()  # no error
    assert history.entries == ["/help"]
