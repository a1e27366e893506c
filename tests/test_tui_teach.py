"""The teach loop in the app, driven by Textual's pilot: F6 flips a sentiment verdict into a
correction, F7 picks a topic, F8 undoes, /teach refuses what it cannot teach. Models are
runtime-only versions written by the tests (no TensorFlow); /teach itself, which trains,
is in the slow test at the end."""

from __future__ import annotations

import pytest

from infer_helpers import make_vocabulary, pooled_lstm, publish_sentiment_pair, publish_version
from rnn_tui.teach.corrections import Corrections
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Verdict
from rnn_tui.tui.widgets.label_picker import LabelPicker, ranked_labels
from tui_helpers import submit, transcript_text, wait_for

TOPIC_LABELS = ["earn", "grain", "crude", "acq"]


@pytest.fixture
def registry(isolated_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    root = isolated_home / "models"
    publish_sentiment_pair(root)
    publish_version(root, "reuters-topics",
                    lambda path: pooled_lstm(10, True, units=4, head="softmax", write_to=path),
                    vocabulary=make_vocabulary(), labels=TOPIC_LABELS, task="multiclass")
    return isolated_home


def stored(name: str) -> list[tuple[str, str, str | None]]:
    return [(c.text, c.label, c.was) for c in Corrections.for_model(name).read().corrections]


async def sent(pilot, app, text: str) -> Verdict:
    await wait_for(pilot, lambda: app.book is not None, what="the registry")
    await submit(pilot, text)
    await wait_for(pilot, lambda: any(getattr(e, "exchange", None) for e in
                                      app.transcript.children), what="the verdicts")
    return app.transcript.children[-1].exchange[1][SENTIMENT]


async def test_f6_flips_the_last_sentiment_and_f8_undoes_it(registry):
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        verdict = await sent(pilot, app, "great film")
        other = "negative" if verdict.label == "positive" else "positive"
        await pilot.press("f6")
        await wait_for(pilot, lambda: stored("imdb-sentiment"), what="the correction")
        assert stored("imdb-sentiment") == [("great film", other, verdict.label)]
        await wait_for(pilot, lambda: f"✎ {other}, not {verdict.label}" in
                       transcript_text(app, 200), what="the correction on the entry")
        await pilot.press("f8")
        await wait_for(pilot, lambda: "undone" in transcript_text(app, 200), what="undo")
        assert stored("imdb-sentiment") == []
        assert "✎" not in transcript_text(app, 200)
        await pilot.press("f8")
        await wait_for(pilot, lambda: "no correction made in this session" in
                       transcript_text(app, 200), what="nothing to undo")


async def test_f6_on_the_text_being_typed(registry):
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.book is not None, what="the registry")
        await pilot.press(*"dull plot")
        await wait_for(pilot, lambda: app.live_text == "dull plot"
                       and isinstance(app.live.verdicts.get(SENTIMENT), Verdict),
                       what="the live verdict")
        await pilot.press("f6")
        await wait_for(pilot, lambda: stored("imdb-sentiment"), what="the correction")
        assert stored("imdb-sentiment")[0][0] == "dull plot"
        assert "“dull plot”" in transcript_text(app, 200)


async def test_f7_picks_the_right_topic_with_a_fuzzy_filter(registry):
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await sent(pilot, app, "oil prices")
        topic = app.transcript.children[-1].exchange[1][TOPICS]
        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, LabelPicker), what="the picker")
        wanted = next(label for label in ("grain", "crude") if label != topic.label)
        await pilot.press(*wanted[:3], "enter")
        await wait_for(pilot, lambda: stored("reuters-topics"), what="the correction")
        assert stored("reuters-topics") == [("oil prices", wanted, topic.label)]
        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, LabelPicker), what="the picker")
        await pilot.press("escape")  # cancelled: nothing recorded
        await pilot.pause()
        assert len(stored("reuters-topics")) == 1


async def test_teach_refuses_what_it_cannot_teach(registry):
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.book is not None, what="the registry")
        await submit(pilot, "/teach imdb-sentiment")
        await wait_for(pilot, lambda: "no corrections of imdb-sentiment yet" in
                       transcript_text(app, 200), what="the refusal")
        await submit(pilot, "/teach no-such-model")
        await wait_for(pilot, lambda: "no-such-model" in transcript_text(app, 200).split(
            "/teach no-such-model")[-1], what="the unknown model")


def test_fuzzy_labels():
    assert ranked_labels(TOPIC_LABELS, "") == TOPIC_LABELS
    assert ranked_labels(TOPIC_LABELS, "cr") == ["crude"]
    assert ranked_labels(TOPIC_LABELS, "zzz") == []


@pytest.mark.slow  # the session's tiny models (~20 s) and a real fine-tuning subprocess
async def test_the_whole_loop_mark_wrong_teach_rescore(tiny_text_models, isolated_home,
                                                      monkeypatch):
    from rnn_tui.registry import open_registries
    from rnn_tui.tui.run_progress import FINISHED
    from rnn_tui.tui.widgets.run_card import RunCard

    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tiny_text_models))
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        texts = ["the acting was wonderful", "a brilliant plot"]
        for text in texts:
            verdict = await sent(pilot, app, text)
            assert verdict.label == "positive"  # what the tiny model learned
            count = len(stored("imdb-sentiment"))
            await pilot.press("f6")
            await wait_for(pilot, lambda: len(stored("imdb-sentiment")) == count + 1,
                           what="the correction")
        assert [label for _, label, _ in stored("imdb-sentiment")] == ["negative"] * 2
        await submit(pilot, "/teach imdb-sentiment --epochs 10 --replay 100 --lr 0.02")
        assert app.query_one("#panes").active == "training"
        [card] = list(app.query(RunCard))
        await wait_for(pilot, lambda: card.progress.status == FINISHED, timeout=240,
                       what="teach to finish")
        assert card.progress.model_ref == "imdb-sentiment:2"
        await wait_for(pilot, lambda: "imdb-sentiment:2 now gets" in transcript_text(app, 200),
                       timeout=30, what="the rescoring")
        said = transcript_text(app, 200)
        right = int(said.split("imdb-sentiment:2 now gets ")[1].split(" of 2")[0])
        assert right >= 1 and "test accuracy" in said
        assert open_registries().resolve("imdb-sentiment").ref == "imdb-sentiment:2"
