"""Snapshot tests of the main screens (pytest-textual-snapshot; update: --snapshot-update).

The content is fixed so the pictures are stable: verdicts and traces are given as data (the
trace is the one tutorial 000 prints for its NSMC example), the training cards are folded
from real event objects, the summary is a card in the registry's format, the data pane reads
the synthetic multiplication corpus (seeded). Open snapshot_report.html after a failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rnn_tui.registry import ModelSummary
from rnn_tui.train import events
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.run_progress import CANCELLED, QUEUED, RunProgress
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Verdict
from rnn_tui.tui.widgets.run_card import RunCard
from rnn_tui.tui.widgets.transcript_entry import TranscriptEntry
from tui_helpers import plain, wait_for

REUTERS = ["cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "crude"]
TUTORIAL_TEXT = "재미있을 줄 알았는데 완전 실망했다. 너무 졸리고 돈이 아까웠다"
TUTORIAL_TRACE = [  # tutorial 000, section 6.14: [P(negative), P(positive)] after each word
    ("재미있을", [0.33282876, 0.66717124]), ("줄", [0.3296478, 0.67035216]),
    ("알았는데", [0.41936734, 0.5806327]), ("완전", [0.36908486, 0.6309151]),
    ("실망했다.", [0.36908486, 0.6309151]), ("너무", [0.375071, 0.624929]),
    ("졸리고", [0.989423, 0.01057698]), ("돈이", [0.9979898, 0.00201018]),
    ("아까웠다", [0.9983991, 0.00160098]),
]


async def settled(pilot) -> None:
    """Wait until the registry is open and listed, so nothing changes under the snapshot;
    a steady cursor (a blinking one is on or off by chance)."""
    app = pilot.app
    app.query_one("#input").cursor_blink = False
    await wait_for(pilot, lambda: app.book is not None and app.models_listed,
                   what="the registry")
    await pilot.pause(0.2)


def tutorial_verdicts() -> dict:
    sentiment = Verdict(SENTIMENT, "nsmc-sentiment:1", ["negative", "positive"],
                        TUTORIAL_TRACE[-1][1], "auto: Korean", TUTORIAL_TRACE)
    topics = Verdict(TOPICS, "reuters-topics:1", REUTERS,
                     [0.02, 0.05, 0.01, 0.41, 0.33, 0.02, 0.01, 0.05, 0.10])
    return {SENTIMENT: sentiment, TOPICS: topics}


def test_empty_workspace_80x24(snap_compare):
    """First run with no model anywhere: the live area says how to get one."""
    assert snap_compare(RnnTuiApp(), terminal_size=(80, 24), run_before=settled)


def test_chat_with_korean_verdicts_and_trace(snap_compare):
    """A Korean review with both verdicts and the word-by-word chart; wide characters align."""
    async def run_before(pilot):
        await settled(pilot)
        app = pilot.app
        entry = app.transcript.add(TranscriptEntry.pending(TUTORIAL_TEXT))
        await pilot.pause()
        entry.show_verdicts(TUTORIAL_TEXT, tutorial_verdicts(), width=90)
        await pilot.press(*"배우 연기는 좋았다")
        # the empty registry answers first; then the picture gets a verdict to show
        await wait_for(pilot, lambda: "missing" in str(app.live.verdicts.get(SENTIMENT)),
                       what="the live answer")
        app.live.verdicts = {SENTIMENT: Verdict(SENTIMENT, "nsmc-sentiment:1",
                                                ["negative", "positive"], [0.22, 0.78],
                                                "auto: Korean"),
                             TOPICS: tutorial_verdicts()[TOPICS]}
        await pilot.pause()

    assert snap_compare(RnnTuiApp(), terminal_size=(100, 34), run_before=run_before)


def test_chat_under_no_color(snap_compare, monkeypatch):
    """NO_COLOR: verdicts still read as label + bar + percentage."""
    monkeypatch.setenv("NO_COLOR", "1")

    async def run_before(pilot):
        await settled(pilot)
        entry = pilot.app.transcript.add(TranscriptEntry.pending("a dull, boring film"))
        await pilot.pause()
        verdicts = tutorial_verdicts()
        verdicts[SENTIMENT] = Verdict(SENTIMENT, "imdb-sentiment:1", ["negative", "positive"],
                                      [0.91, 0.09], "auto: English",
                                      [("a", [0.4, 0.6]), ("dull", [0.8, 0.2]),
                                       ("boring", [0.93, 0.07]), ("film", [0.91, 0.09])])
        entry.show_verdicts("a dull, boring film", verdicts, width=76)
        await pilot.pause()

    assert snap_compare(RnnTuiApp(), terminal_size=(80, 24), run_before=run_before)


def _run_events(epochs_done: int, epochs: int, finished: bool) -> list:
    stream = [events.RunStarted(name="compare-multiplication-lstm", config={}, epochs=epochs,
                                steps_per_epoch=64, params={"total": 11_551}, time=0.0)]
    loss, mae = 0.09, 0.24
    for epoch in range(1, epochs_done + 1):
        loss, mae = loss * 0.8, mae * 0.9
        stream.append(events.EpochStarted(epoch=epoch, epochs=epochs, time=float(epoch)))
        stream.append(events.EpochEnded(
            epoch=epoch, epochs=epochs, seconds=4.0, time=float(epoch) + 0.9,
            logs={"loss": loss, "mae": mae, "val_loss": loss * 1.1, "val_mae": mae * 1.05}))
    if finished:
        stream.append(events.RunFinished(
            name="compare-multiplication-lstm", model_ref="compare-multiplication-lstm:1",
            test_metrics={"loss": loss, "mae": mae}, duration_s=21.0, epochs_run=epochs,
            time=22.0))
    else:
        stream.append(events.BatchEnded(epoch=epochs_done + 1, step=40, steps=64,
                                        logs={"loss": loss * 0.95, "mae": mae * 0.97},
                                        time=float(epochs_done) + 1.5))
    return stream


def test_training_side_by_side_80x24(snap_compare):
    """/compare: one finished run, one training, one queued (and one cancelled)."""
    async def run_before(pilot):
        await settled(pilot)
        app = pilot.app
        await pilot.press("f3")
        runs = app.query_one("#runs")
        app.query_one("#training-empty").display = False
        states = {"simplernn": _run_events(5, 5, True), "lstm": _run_events(3, 5, False),
                  "gru": []}
        for label, stream in states.items():
            progress = RunProgress(label)
            for event in stream:
                progress.apply(event)
            progress.started = progress.ended = None  # no wall-clock seconds in the picture
            if label == "gru":
                progress.status = QUEUED
            await runs.mount(RunCard(f"snap-{label}", progress))
        await pilot.pause(0.3)

    assert snap_compare(RnnTuiApp(), terminal_size=(80, 24), run_before=run_before)


def test_cancelled_run_card(snap_compare):
    async def run_before(pilot):
        await settled(pilot)
        await pilot.press("f3")
        pilot.app.query_one("#training-empty").display = False
        progress = RunProgress("imdb lstm")
        for event in _run_events(2, 10, False):
            progress.apply(event)
        progress.apply(events.RunCancelled(epoch=2, time=3.0))
        progress.started = progress.ended = None
        progress.status = CANCELLED
        await pilot.app.query_one("#runs").mount(RunCard("snap-cancelled", progress))
        await pilot.pause(0.3)

    assert snap_compare(RnnTuiApp(), terminal_size=(80, 24), run_before=run_before)


TUTORIAL_CARD = {
    "task": "binary", "labels": ["negative", "positive"], "language": "ko",
    "created": "2026-11-25T12:00:00+00:00",
    "input": {"kind": "text", "maxlen": 25, "padding": "post", "truncating": "post"},
    "dataset": {"name": "nsmc", "form": "ratings_*.txt", "train_size": 120000,
                "validation_size": 30000, "test_size": 50000},
    "vocabulary": {"level": "word", "num_words": 20000, "size": 20000},
    "architecture": {"arch": "emb:300,mask=false lstm:50 head:softmax",
                     "preset": "tutorial-nsmc-lstm"},
    "training": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 120, "epochs": 5,
                 "epochs_run": 5, "seed": 42, "duration_s": 251.4, "device": "CPU"},
    "metrics": {"test": {"loss": 0.5628, "accuracy": 0.8102}},
    "history": {"loss": [0.43, 0.33, 0.28, 0.24, 0.20]},
    "layers": [
        {"name": "embedding", "type": "Embedding", "output_shape": "(None, 25, 300)",
         "params": 6000000, "trainable": True},
        {"name": "lstm_1", "type": "LSTM", "output_shape": "(None, 50)", "params": 70200,
         "trainable": True},
        {"name": "output", "type": "Dense", "output_shape": "(None, 2)", "params": 102,
         "trainable": True},
    ],
    "params": {"total": 6070302, "trainable": 6070302, "non_trainable": 0},
}


def test_summary_pane(snap_compare):
    """The Keras-style layer table of tutorial 000's NSMC model, and its card."""
    async def run_before(pilot):
        await settled(pilot)
        pane = pilot.app.query_one("#summary-pane")
        pane.ref = "nsmc-sentiment:1  (shipped)"
        pane.card = TUTORIAL_CARD
        await pilot.press("f4")
        await pilot.pause()

    assert snap_compare(RnnTuiApp(), terminal_size=(100, 30), run_before=run_before)


def test_data_pane_multiplication(snap_compare):
    async def run_before(pilot):
        await settled(pilot)
        await pilot.press(*"/data multiplication", "enter")
        facts = pilot.app.query_one("#data-facts")
        await wait_for(pilot, lambda: "2,560" in plain(facts.content), what="the statistics")
        await pilot.pause(0.2)

    assert snap_compare(RnnTuiApp(), terminal_size=(100, 30), run_before=run_before)


def test_sidebar_lists_models_by_role(snap_compare):
    """The registry sidebar: task, corpus, accuracy and age; the active models marked."""
    created = (datetime.now(timezone.utc) - timedelta(days=2, hours=1)).isoformat()

    def summary(name, task, dataset, accuracy, source="shipped", language="en"):
        return ModelSummary(name=name, versions=[1], version=1, source=source, task=task,
                            created=created, size_bytes=1000, dataset=dataset,
                            language=language, metric="accuracy" if accuracy else "mae",
                            metric_value=accuracy or 0.18)

    async def run_before(pilot):
        await settled(pilot)
        sidebar = pilot.app.sidebar
        sidebar.roles = {"imdb-sentiment": SENTIMENT, "nsmc-sentiment": SENTIMENT,
                         "my-imdb-gru": SENTIMENT, "reuters-topics": TOPICS,
                         "compare-multiplication-lstm": None}
        sidebar.models = [
            summary("my-imdb-gru", "binary", "imdb", 0.874, source="user"),
            summary("imdb-sentiment", "binary", "imdb", 0.881),
            summary("nsmc-sentiment", "binary", "nsmc", 0.842, language="ko"),
            summary("reuters-topics", "multiclass", "reuters", 0.781),
            summary("compare-multiplication-lstm", "regression", "multiplication", None,
                    source="user", language=None),
        ]
        await pilot.pause()

    assert snap_compare(RnnTuiApp(), terminal_size=(120, 30), run_before=run_before)


# ---------------------------------------------------------------------------- every pane
# Each pane at the reference size (80x24) in the dark and the light theme, and at 160x48
# (the sidebar open), dark and light: 28 pictures, the scenes as above.

async def _chat_scene(pilot) -> None:
    app = pilot.app
    await pilot.press(*"/help data", "enter")
    await pilot.pause()
    entry = app.transcript.add(TranscriptEntry.pending(TUTORIAL_TEXT))
    await pilot.pause()
    entry.show_verdicts(TUTORIAL_TEXT, tutorial_verdicts(), width=app.transcript.size.width)
    await pilot.press(*"배우 연기는 좋았다")
    await wait_for(pilot, lambda: "missing" in str(app.live.verdicts.get(SENTIMENT)),
                   what="the live answer")
    app.live.verdicts = {SENTIMENT: Verdict(SENTIMENT, "nsmc-sentiment:1",
                                            ["negative", "positive"], [0.22, 0.78],
                                            "auto: Korean"),
                         TOPICS: tutorial_verdicts()[TOPICS]}


async def _training_scene(pilot) -> None:
    app = pilot.app
    await pilot.press("f3")
    runs = app.query_one("#runs")
    app.query_one("#training-empty").display = False
    for label, stream in {"simplernn": _run_events(5, 5, True),
                          "lstm": _run_events(3, 5, False), "gru": []}.items():
        progress = RunProgress(label)
        for event in stream:
            progress.apply(event)
        progress.started = progress.ended = None
        if label == "gru":
            progress.status = QUEUED
        await runs.mount(RunCard(f"snap-{label}", progress))


async def _summary_scene(pilot) -> None:
    pane = pilot.app.query_one("#summary-pane")
    pane.ref = "nsmc-sentiment:1  (shipped)"
    pane.card = TUTORIAL_CARD
    await pilot.press("f4")


async def _data_scene(pilot) -> None:
    await pilot.press(*"/data multiplication", "enter")
    facts = pilot.app.query_one("#data-facts")
    await wait_for(pilot, lambda: "2,560" in plain(facts.content), what="the statistics")


async def _help_scene(pilot) -> None:
    await pilot.press("f1")


async def _tune_scene(pilot) -> None:
    from rnn_tui.tui.run_plans import RunPlan
    from rnn_tui.tui.widgets.tune_pane import TuneEvent
    from rnn_tui.tune.events import TrialsChanged
    from rnn_tui.tune.view import TrialRow

    pane = pilot.app.tune_pane
    pane.plan = RunPlan("tune imdb", ["tune", "--dataset", "imdb"])
    pane.started = pane.ended = 1.0  # a steady clock
    states = ["complete", "pruned", "complete", "failed (invalid: units)", "running"]
    rows = [TrialRow(number, states[number % 5],
                     {"arch": ["lstm", "gru", "simplernn"][number % 3], "units": 32 + number,
                      "embedding_dim": 64, "spatial_dropout": 0.2, "learning_rate": 0.0012,
                      "maxlen": 200, "num_words": 20000},
                     [0.78, 0.83, 0.851][: number % 3 + 1],
                     0.85 + number / 1000 if states[number % 5] == "complete" else None,
                     95.0 + number, best=number == 7)
            for number in range(14)]
    pane.post_message(TuneEvent(TrialsChanged(study="imdb-default", metric="val_accuracy",
                                              rows=rows)))
    await pilot.press("f9")


async def _compare_scene(pilot) -> None:
    from rnn_tui.compare.facts import ModelFacts
    from rnn_tui.tui.widgets.compare_pane import FactsMeasured

    models = [ModelFacts(f"compare-imdb-{arch}:1", "imdb", f"emb:64 {arch}:64", "binary",
                         {"accuracy": accuracy, "loss": 0.7 - accuracy / 2}, params, 2_400_000,
                         seconds, {"val_loss": [0.6, 0.45, 0.41 + index / 50],
                                   "val_accuracy": [0.7, 0.8, accuracy - 0.01]}, latency)
              for index, (arch, accuracy, params, seconds, latency) in enumerate((
                  ("simplernn", 0.81, 328_321, 41.0, 0.08), ("lstm", 0.86, 353_089, 95.0, 0.21),
                  ("gru", 0.87, 344_833, 80.0, 0.17)))]
    pilot.app.compare_pane.post_message(FactsMeasured(models))
    await pilot.press("f10")


SCENES = {"chat": _chat_scene, "training": _training_scene, "summary": _summary_scene,
          "data": _data_scene, "help": _help_scene, "tune": _tune_scene,
          "compare": _compare_scene}


@pytest.mark.parametrize("look", ["80x24-dark", "80x24-light", "160x48-dark", "160x48-light"])
@pytest.mark.parametrize("pane", list(SCENES))
def test_every_pane(snap_compare, pane, look):
    size, theme = look.split("-")
    width, height = map(int, size.split("x"))

    async def run_before(pilot):
        pilot.app.theme = "textual-light" if theme == "light" else "textual-dark"
        await settled(pilot)
        await SCENES[pane](pilot)
        await pilot.pause(0.3)

    assert snap_compare(RnnTuiApp(), terminal_size=(width, height), run_before=run_before)
