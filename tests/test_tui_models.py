"""The workspace with real (tiny) models: live verdicts, the trace, switching, summaries.

The models are trained once per session by the real engine (conftest's tiny_text_models)
and served as the shipped registry, as on a fresh machine; each test's registry starts empty.
"""

from __future__ import annotations

import sys

import pytest
from textual.widgets import OptionList, TabbedContent

from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Verdict
from rnn_tui.tui.widgets.chat_input import ChatInput
from tui_helpers import plain, submit, transcript_text, wait_for

pytestmark = pytest.mark.slow  # the session's tiny models take ~20 s to train


@pytest.fixture(autouse=True)
def shipped(tiny_text_models, monkeypatch):
    """The tiny models as the shipped registry, as on a fresh machine."""
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tiny_text_models))
    return tiny_text_models


async def ready(pilot) -> RnnTuiApp:
    """Wait until the default models are loaded."""
    app = pilot.app
    await wait_for(pilot, lambda: app.book is not None and all(
        app.book.is_loaded(ref) for ref in ("imdb-sentiment", "reuters-topics",
                                            "nsmc-sentiment")), what="the models")
    return app


async def live_verdicts_for(pilot, text: str) -> dict:
    app = pilot.app
    await wait_for(pilot, lambda: app.live_text == text, what=f"the verdicts for {text!r}")
    return app.live.verdicts


async def test_live_verdicts_follow_every_keystroke():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        # (the loading worker says so to the screen a moment after the models are loaded)
        await wait_for(pilot, lambda: "Korean → nsmc-sentiment:1 ready"
                       in app.live.verdicts[SENTIMENT].message, what="the readiness line")
        readiness = app.live.verdicts[SENTIMENT].message
        assert "English → imdb-sentiment:1 ready" in readiness
        text = ""
        for character in "wonderful brilliant":
            await pilot.press(character)
            text += character
            verdicts = await live_verdicts_for(pilot, text)  # every prefix gets its verdict
            assert isinstance(verdicts[SENTIMENT], Verdict)
            assert isinstance(verdicts[TOPICS], Verdict)
        sentiment = verdicts[SENTIMENT]
        assert (sentiment.model, sentiment.why) == ("imdb-sentiment:1", "auto: English")
        assert sentiment.label == "positive" and sentiment.confidence > 0.8
        assert abs(sum(sentiment.probabilities) - 1) < 1e-4
        await pilot.press("ctrl+u", *"awful boring")  # delete the line, type another
        text = "awful boring"
        verdicts = await live_verdicts_for(pilot, text)
        assert verdicts[SENTIMENT].label == "negative"
        # the verdict agrees with a full prediction of the same text
        full = app.book.verdicts(text, live=False)[SENTIMENT]
        assert verdicts[SENTIMENT].probabilities == pytest.approx(full.probabilities, abs=1e-4)


async def test_korean_text_goes_to_the_korean_model():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press(*"정말 최고 감동")
        sentiment = (await live_verdicts_for(pilot, "정말 최고 감동"))[SENTIMENT]
        assert (sentiment.model, sentiment.why) == ("nsmc-sentiment:1", "auto: Korean")
        assert sentiment.label == "positive"
        await pilot.press("ctrl+u", *"연기 지루하다 최악")
        text = "연기 지루하다 최악"
        assert app.query_one("#input", ChatInput).value == text
        assert (await live_verdicts_for(pilot, text))[SENTIMENT].label == "negative"


async def test_news_gets_its_topics():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press(*"opec oil barrel")
        topics = (await live_verdicts_for(pilot, "opec oil barrel"))[TOPICS]
        assert topics.model == "reuters-topics:1"
        assert [label for label, _ in topics.ranked(1)] == ["crude"]
        assert sorted(topics.labels) == ["acq", "crude", "earn", "grain"]


async def test_enter_keeps_text_verdicts_and_the_word_by_word_trace():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await pilot.press(*"the film was wonderful", "enter")
        assert app.query_one("#input", ChatInput).value == ""
        entry = app.transcript.children[-1]
        await wait_for(pilot, lambda: "per word" in plain(entry.content), what="the trace")
        text = plain(entry.content)
        assert "› the film was wonderful" in text
        assert "imdb-sentiment:1 (auto: English)" in text and "reuters-topics:1" in text
        rows = [line for line in text.splitlines() if "│" in line]
        assert [row.split()[0] for row in rows] == ["the", "film", "was", "wonderful"]
        assert rows[-1].rstrip().endswith("%")


async def test_switching_models_with_commands_and_the_sidebar():
    app = RnnTuiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await submit(pilot, "/model nsmc-sentiment")
        assert "sentiment: nsmc-sentiment:1" in transcript_text(app)
        await pilot.press(*"wonderful")
        sentiment = (await live_verdicts_for(pilot, "wonderful"))[SENTIMENT]
        assert (sentiment.model, sentiment.why) == ("nsmc-sentiment:1", "pinned")
        await submit(pilot, "/model")
        assert plain(app.transcript.children[-1].content).startswith(
            "sentiment: nsmc-sentiment\ntopics: reuters-topics")
        await submit(pilot, "/model tiny-multiplication")
        assert "cannot read text" in transcript_text(app)
        # the sidebar: the same choice by keys (auto is the first choosable row)
        await pilot.press("ctrl+b")
        option_list = app.sidebar.query_one(OptionList)
        assert app.focused is option_list
        prompts = [plain(option.prompt) for option in option_list.options]
        assert any(prompt.startswith("● nsmc-sentiment:1") for prompt in prompts)
        assert any("tiny-multiplication:1" in prompt for prompt in prompts)
        option_list.highlighted = next(index for index, option in enumerate(option_list.options)
                                       if option.id == "auto")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.book.sentiment == "auto", what="auto again")
        chat_input = app.query_one("#input", ChatInput)
        chat_input.focus()
        chat_input.value = "wonderful!"
        sentiment = (await live_verdicts_for(pilot, "wonderful!"))[SENTIMENT]
        assert (sentiment.model, sentiment.why) == ("imdb-sentiment:1", "auto: English")
        # choosing a model in the sidebar also shows its summary
        option_list.focus()
        option_list.highlighted = next(index for index, option in enumerate(option_list.options)
                                       if option.id == "reuters-topics")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query_one("#summary-pane").card is not None,
                       what="the summary")
        assert app.book.topics == "reuters-topics"


async def test_summary_shows_the_layer_table_and_card():
    app = RnnTuiApp()
    async with app.run_test(size=(110, 40)) as pilot:
        await ready(pilot)
        await submit(pilot, "/summary reuters-topics")
        assert app.query_one("#panes", TabbedContent).active == "summary"
        pane = app.query_one("#summary-pane")
        text = plain(pane.query_one("#summary-body").content, width=110)
        card = app.book.registries.resolve("reuters-topics").card
        for layer in card["layers"]:
            assert f"{layer['name']} ({layer['type']})" in text
        assert f"Total params: {card['params']['total']:,}" in text
        assert "reuters-topics:1  (shipped)" in text
        assert "Metrics (test)" in text and "accuracy" in text
        assert "Prediction runtime" in text and "as you type" in text
        await submit(pilot, "/summary")  # the active sentiment model
        assert "imdb-sentiment:1" in plain(pane.query_one("#summary-body").content)


async def test_a_new_version_appears_without_a_restart(shipped):
    app = RnnTuiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await pilot.press(*"wonderful")
        assert (await live_verdicts_for(pilot, "wonderful"))[SENTIMENT].model == \
            "imdb-sentiment:1"
        # another process publishes: the user's own imdb-sentiment (a copy of the shipped one)
        from rnn_tui.registry import open_registries

        open_registries().publish("imdb-sentiment", shipped / "imdb-sentiment" / "1")
        await wait_for(pilot, lambda: "new in the registry: imdb-sentiment:1" in
                       transcript_text(app), timeout=10, what="the registry change")
        sources = {summary.name: summary.source for summary in app.models}
        assert sources["imdb-sentiment"] == "user"  # the user's version shadows the shipped
        loaded = await wait_for_reload(pilot, app)
        assert loaded.version.source == "user"


async def wait_for_reload(pilot, app):
    def reloaded():
        loaded = app.book._loaded.get("imdb-sentiment")
        return loaded is not None and loaded.version.source == "user"

    await wait_for(pilot, reloaded, timeout=10, what="the reload")
    return app.book._loaded["imdb-sentiment"]


async def test_evaluate_scores_a_model():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await submit(pilot, "/evaluate reuters-topics")
        await wait_for(pilot, lambda: "confusion matrix" in transcript_text(app, width=120),
                       timeout=120, what="the evaluation")
        text = transcript_text(app, width=120)
        assert "reuters-topics:1 on" in text and "accuracy" in text
        for label in ("acq", "crude", "earn", "grain"):
            assert label in text
        # it showed its progress: the stages, then the scored batches (all of them)
        from rnn_tui.tui.widgets.progress_line import ProgressLine

        line = plain(app.transcript.query_one(ProgressLine).content, width=120)
        assert "evaluating reuters-topics:1 · scoring" in line
        done, total = line.split("scoring")[1].split()[1].split("/")
        assert done == total and int(total) >= 1
        await submit(pilot, "/evaluate no-such-model")
        assert "no model named 'no-such-model'" in transcript_text(app)


UI_PROCESS_SCRIPT = """
import asyncio, io, sys
from rich.console import Console
from rnn_tui.tui.app import RnnTuiApp

def text_of(renderable):
    console = Console(file=io.StringIO(), width=100)
    console.print(renderable)
    return console.file.getvalue()

async def main():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        while not (app.book and app.book.is_loaded("imdb-sentiment")):
            await pilot.pause(0.05)
        await pilot.press(*"wonderful", "enter")
        while "per word" not in text_of(app.transcript.children[-1].content):
            await pilot.pause(0.05)
        await pilot.press(*"/summary", "enter")
        await pilot.pause(0.2)
    print("tensorflow" in sys.modules, "keras" in sys.modules)

asyncio.run(main())
"""


def test_tensorflow_stays_out_of_the_ui_process(shipped):
    """Typing, verdicts, the trace and summaries use the NumPy runtime only."""
    import subprocess

    result = subprocess.run([sys.executable, "-c", UI_PROCESS_SCRIPT], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "False"]


async def test_check_shows_the_failure_rate_of_each_capability():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await submit(pilot, "/check")
        await wait_for(pilot, lambda: "invariance" in transcript_text(app),
                       what="the check table")
        text = transcript_text(app)
        assert "imdb-sentiment:1" in text and "English sentiment" in text
        for capability in ("negation", "contrast", "typos", "short", "all"):
            assert capability in text
        await submit(pilot, "/check nsmc-sentiment")
        await wait_for(pilot, lambda: "nsmc-sentiment:1:" in transcript_text(app),
                       what="the second table")
        await submit(pilot, "/check reuters-topics")
        await wait_for(pilot, lambda: "none named positive" in transcript_text(app),
                       what="the refusal")


async def test_check_shows_its_progress():
    """/check puts a progress line in the chat at once, which moves to scoring and stays,
    stopped, above the table."""
    from rnn_tui.tui.widgets.progress_line import ProgressLine

    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await submit(pilot, "/check")
        line = app.transcript.query_one(ProgressLine)
        assert "checking imdb-sentiment:1" in plain(line.content)
        await wait_for(pilot, lambda: "invariance" in transcript_text(app),
                       what="the check table")
        assert "checking imdb-sentiment:1 · scoring" in plain(line.content)
        children = list(app.transcript.children)
        assert children.index(line) < len(children) - 1  # the table came after it


async def test_models_say_they_are_loading_until_they_are_ready(monkeypatch):
    """Model loading shows in the live area (a busy line naming the model), then 'ready'."""
    import threading

    from rnn_tui.infer import Predictor

    gate = threading.Event()
    real_load = Predictor.load.__func__

    def held_load(cls, model):
        gate.wait(timeout=60)  # the load waits until the test has seen it in progress
        return real_load(cls, model)

    monkeypatch.setattr(Predictor, "load", classmethod(held_load))
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.book is not None and app.models_listed,
                       what="the registry")
        sentiment = app.live.verdicts[SENTIMENT]
        assert "loading imdb-sentiment…" in sentiment.message and sentiment.busy
        assert "loading reuters-topics…" in app.live.verdicts[TOPICS].message
        gate.set()
        await wait_for(pilot, lambda: "imdb-sentiment:1 ready"
                       in app.live.verdicts[SENTIMENT].message, what="the loaded model")
        assert not app.live.verdicts[TOPICS].busy
