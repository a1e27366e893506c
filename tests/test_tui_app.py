"""The workspace driven by Textual's pilot, with an empty registry: layout, keys, commands.

The tests with real models (live verdicts, model switching, summaries) are in
test_tui_models.py; training runs in test_tui_training.py.
"""

from __future__ import annotations

from textual.widgets import TabbedContent

from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.commands import COMMANDS
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Absent
from rnn_tui.tui.widgets.chat_input import ChatInput
from rnn_tui.tui.widgets.model_sidebar import ModelSidebar
from tui_helpers import plain, submit, transcript_text, wait_for


def active_pane(app) -> str:
    return app.query_one("#panes", TabbedContent).active


async def test_first_screen_in_80x24():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.book is not None, what="the registry")
        assert app.focused is app.query_one("#input")
        assert active_pane(app) == "chat"
        # 80 columns: the model list starts hidden, Ctrl+B shows it and focuses it
        sidebar = app.query_one(ModelSidebar)
        assert not sidebar.display
        await pilot.press("ctrl+b")
        assert sidebar.display
        assert app.focused is sidebar.query_one("#model-list")
        await pilot.press("escape")
        assert app.focused is app.query_one("#input")
        # with no model anywhere, the live area says how to get one
        await wait_for(pilot, lambda: isinstance(app.live.verdicts.get(SENTIMENT), Absent)
                       and "imdb-sentiment: missing" in app.live.verdicts[SENTIMENT].message,
                       what="the missing-model hint")
        assert "reuters-topics: missing" in app.live.verdicts[TOPICS].message
        await wait_for(pilot, lambda: "train it with /train --preset reuters-topics" in
                       transcript_text(app, width=200), what="the training hint")


async def test_wide_terminal_shows_the_sidebar():
    app = RnnTuiApp()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        sidebar = app.query_one(ModelSidebar)
        assert sidebar.display
        await pilot.press("ctrl+b")  # first to the list
        assert sidebar.display and app.focused is sidebar.query_one("#model-list")
        await pilot.press("ctrl+b")  # then away
        assert not sidebar.display and app.focused is app.query_one("#input")


async def test_function_keys_switch_panes():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, pane in (("f3", "training"), ("f4", "summary"), ("f5", "data"),
                          ("f2", "chat")):
            await pilot.press(key)
            assert active_pane(app) == pane
        await pilot.press("f5", "escape", "escape")  # Esc twice: the input, then the chat
        assert active_pane(app) == "chat"


async def test_help_lists_every_command_and_key():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await submit(pilot, "/help")
        text = transcript_text(app)
        for name in COMMANDS:
            assert f"/{name}" in text
        assert "Ctrl+G" in text and "Ctrl+P" in text


async def test_help_for_one_command_shows_its_options_and_examples():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await submit(pilot, "/help train")
        text = transcript_text(app, width=100)
        assert "--epochs INTEGER" in text and "Epochs. [10]" in text
        assert "--arch TEXT" in text and "--padding pre|post" in text
        assert "--json" not in text  # the app reads that itself
        assert "Examples" in text and "/train imdb --arch lstm --epochs 2" in text
        await submit(pilot, "/help model")
        assert "/model my-imdb-gru:2" in transcript_text(app)


async def test_f1_and_question_mark_open_the_help_screen():
    from rnn_tui.tui.widgets.help_screen import HelpScreen

    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        body = plain(app.screen.query_one("#help-body").content, width=76)
        for name in COMMANDS:
            assert f"/{name}" in body
        assert "Ctrl+G" in body and "Ctrl+B" in body and "F5" in body
        # nothing printed into the chat (the welcome is the one help note there)
        assert len(app.transcript.query(".help")) == 1
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused is app.query_one("#input")
        await pilot.press("?")  # in the empty input: help
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")  # F1 closes it again
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press(*"why?")  # inside a text: a question mark
        assert app.query_one("#input", ChatInput).value == "why?"
        assert not isinstance(app.screen, HelpScreen)


async def test_bad_commands_explain_and_keep_the_input():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "/trian imdb")
        assert "unknown command /trian (did you mean /train?)" in transcript_text(app)
        chat_input = app.query_one("#input", ChatInput)
        assert chat_input.value == "/trian imdb"  # to fix it
        assert (chat_input.selection.start, chat_input.selection.end) == (0, 11)
        assert app.live.hint == ""  # the error is said once, in the transcript
        await submit(pilot, "/train imdb --epochs 0")
        assert "epochs must be a whole number >= 1, not 0" in transcript_text(app)
        await submit(pilot, "/train nosuchcorpus")
        assert "unknown corpus 'nosuchcorpus'" in transcript_text(app)
        await submit(pilot, "/summary no-such-model")
        await wait_for(pilot, lambda: "no model named 'no-such-model'" in transcript_text(app),
                       what="the summary error")
        await submit(pilot, "/model no-such-model")
        assert transcript_text(app).count("no model named 'no-such-model'") == 2
        await submit(pilot, "/cancel nothing")
        assert "no run 'nothing' to cancel" in transcript_text(app)


async def test_typing_a_command_shows_its_usage_and_completes_with_tab():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/comp")
        assert app.live.hint == "/compare"
        await pilot.press("tab")
        chat_input = app.query_one("#input", ChatInput)
        assert chat_input.value == "/compare "
        assert app.live.hint.startswith("/compare [DATASET]")
        await pilot.press(*"mul", "tab")
        assert chat_input.value == "/compare multiplication "


async def test_tab_then_the_argument_runs_the_command():
    """/tr, Tab, a corpus, Enter: /train multiplication (not /trainmultiplication)."""
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"/he", "tab", *"data", "enter")
        await pilot.pause()
        text = transcript_text(app)
        assert "› /help data" in text and "/data [DATASET]" in text
        assert "unknown command" not in text and "✗" not in text


async def test_a_failed_command_is_typed_over_not_appended_to():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"/hlep", "enter")
        await pilot.pause()
        await pilot.press(*"/clear", "enter")
        await pilot.pause()
        chat_input = app.query_one("#input", ChatInput)
        assert chat_input.value == ""
        assert chat_input.history[-2:] == ["/hlep", "/clear"]
        assert len(app.transcript.children) == 0  # /clear ran


async def test_commands_are_echoed_and_an_error_is_said_once():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, "/trainmultiplication")
        text = transcript_text(app, width=200)
        assert "› /trainmultiplication" in text
        assert text.count("/trainmultiplication") == 2  # the echo, then the one error
        assert text.count("✗") == 1
        assert "trainmultiplication" not in app.live.hint


async def test_clear_and_history():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "/help")
        await submit(pilot, "/clear")
        assert len(app.transcript.children) == 0
        await pilot.press("up")
        assert app.query_one("#input", ChatInput).value == "/clear"
        await pilot.press("up")
        assert app.query_one("#input", ChatInput).value == "/help"
        await pilot.press("down", "down")
        assert app.query_one("#input", ChatInput).value == ""


async def test_korean_is_typed_and_edited_by_characters():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"재미있을 줄")
        chat_input = app.query_one("#input", ChatInput)
        assert chat_input.value == "재미있을 줄"
        await pilot.press("backspace", "left", "left", "알")
        assert chat_input.value == "재미있알을 "
        await pilot.press("end", *"알았는데")
        assert chat_input.value == "재미있알을 알았는데"


async def test_pasted_escape_sequences_never_reach_the_terminal():
    from textual import events

    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chat_input = app.query_one("#input", ChatInput)
        chat_input.post_message(events.Paste("\x1b[2J\x1b]0;pwned\x07bad"))
        await pilot.pause()
        assert "\x1b" not in chat_input.value and "\x07" not in chat_input.value
        assert chat_input.value == "␛[2J␛]0;pwned␇bad"
        await pilot.press("enter")
        await pilot.pause()
        assert "\x1b" not in transcript_text(app)
        # a review pasted from a web page: several lines, kept whole
        chat_input.post_message(events.Paste("First line of a review.\r\n\r\n  And more.\n"))
        await pilot.pause()
        assert chat_input.value == "First line of a review. And more."


async def test_data_pane_loads_a_corpus_in_the_background():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "/data multiplication")
        assert active_pane(app) == "data"
        facts = app.query_one("#data-facts")
        await wait_for(pilot, lambda: "2,560 examples" in plain(facts.content),
                       what="the multiplication statistics")
        loading = app.query_one("#data-loading")  # the progress line, hidden when done
        assert not loading.display
        assert "/data multiplication · describing 3,072 sequences" in plain(loading.content)
        text = plain(facts.content)
        assert "regression" in text and "100 × 2" in text


async def test_data_pane_says_how_to_get_a_missing_corpus(data_home):
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, "/data nsmc")
        facts = app.query_one("#data-facts")
        await wait_for(pilot, lambda: "rnn-tui data fetch nsmc" in plain(facts.content),
                       what="the fetch hint")


async def test_command_palette_runs_slash_commands():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"/data multi")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: active_pane(app) == "data", what="the data pane")
        # a command that needs more typing is put into the input instead
        await pilot.press("ctrl+p")
        await pilot.press(*"/train")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query_one("#input", ChatInput).value == "/train ",
                       what="the prefilled input")


async def test_a_runs_notes_come_before_its_outcome():
    from rnn_tui.train import events
    from rnn_tui.tui.run_progress import RunProgress
    from rnn_tui.tui.widgets.training_pane import TrainingPane

    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        progress = RunProgress("imdb lstm")
        progress.apply(events.Note(text="the GPU kernel is off: recurrent dropout"))
        progress.apply(events.RunCancelled(epoch=0))
        app.post_message(TrainingPane.RunEnded(progress))
        await pilot.pause()
        text = transcript_text(app, width=200)
        assert text.index("the GPU kernel is off") < text.index("■ imdb lstm")


async def test_tab_completes_even_before_the_suggestion_is_shown():
    """A fast typist (or tmux send-keys) presses Tab before the suggester has answered."""
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chat_input = app.query_one("#input", ChatInput)
        chat_input.value = "/he"  # no suggestion computed yet
        chat_input.cursor_position = 3
        chat_input._suggestion = ""
        await pilot.press("tab")
        assert chat_input.value == "/help " and app.focused is chat_input
        chat_input.value = "/zzz"
        await pilot.press("tab")  # nothing to complete: the focus stays
        assert app.focused is chat_input


async def test_a_tab_among_fast_keys_completes_in_order():
    """Keys that arrive in one read (a fast typist over SSH, tmux send-keys): the Tab
    completes what was typed before it, not after."""
    from textual import events

    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for character in "/he\tdata":
            key = {"\t": "tab", "/": "slash"}.get(character, character)
            app.post_message(events.Key(key, character))
        await pilot.pause(0.3)
        assert app.query_one("#input", ChatInput).value == "/help data"


async def test_enter_among_fast_keys_sends_only_what_came_before_it():
    from textual import events

    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for character in "/clear\rgood\x7f":
            key = {"\r": "enter", "/": "slash", "\x7f": "backspace"}.get(character, character)
            app.post_message(events.Key(key, character if character.isprintable() else None))
        await pilot.pause(0.3)
        chat_input = app.query_one("#input", ChatInput)
        assert chat_input.history[-1] == "/clear"  # not "/cleargood"
        assert chat_input.value == "goo"  # the next line, backspace in its place
