"""Training from the workspace: real ``rnn-tui train --json`` subprocesses of tiny models.

A short run goes to the end and publishes; a run is cancelled mid-way and leaves nothing
half-written; /compare queues its three runs one after another; quitting stops a run.
Each run starts TensorFlow in its own process (a few seconds), hence ``slow``.
"""

from __future__ import annotations

import pytest

from rnn_tui import paths
from rnn_tui.errors import NotFoundError
from rnn_tui.registry import open_registries
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.run_progress import CANCELLED, FINISHED, QUEUED, RUNNING
from rnn_tui.tui.widgets.chat_input import ChatInput
from rnn_tui.tui.widgets.run_card import RunCard
from tui_helpers import submit, transcript_text, wait_for

pytestmark = pytest.mark.slow

TINY = "--dataset-option train_size=128 --arch gru:4 --batch-size 32"


def cards(app) -> list[RunCard]:
    return list(app.query(RunCard))


async def test_a_short_run_trains_to_the_end_and_publishes():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, f"/train multiplication {TINY} --epochs 3 --name tui-run")
        assert app.query_one("#panes").active == "training"
        [card] = cards(app)
        assert card.progress.label == "tui-run"
        # the interface stays responsive while the run trains
        await wait_for(pilot, lambda: card.progress.status == RUNNING, timeout=120,
                       what="the run to start")
        await pilot.press(*"still typing")
        assert app.query_one("#input", ChatInput).value == "still typing"
        await wait_for(pilot, lambda: card.progress.status == FINISHED, timeout=180,
                       what="the run to finish")
        progress = card.progress
        assert (progress.epoch, progress.epochs) == (3, 3)
        assert len(progress.history["loss"]) == 3 and len(progress.history["val_loss"]) == 3
        assert progress.metric_names() == ("loss", "mae")
        assert progress.model_ref == "tui-run:1" and "mae" in progress.test_metrics
        await wait_for(pilot, lambda: "✓ tui-run: published tui-run:1" in transcript_text(app),
                       timeout=30, what="the report in the chat")
        assert open_registries().resolve("tui-run").card["training"]["epochs_run"] == 3
        # the registry watch brings it into the model list without a restart
        await wait_for(pilot, lambda: any(summary.name == "tui-run" for summary in app.models),
                       timeout=10, what="the sidebar")


async def test_cancelling_a_run_publishes_nothing_and_keeps_the_resume_point():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, f"/train multiplication {TINY} --epochs 5000 --name tui-cancel")
        [card] = cards(app)
        await wait_for(pilot, lambda: card.progress.history.get("loss"), timeout=120,
                       what="the first epoch")
        pane = app.query_one("#training-pane")
        process = pane._processes[card.run_id].process
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: card.progress.status == CANCELLED and not pane._processes,
                       timeout=60, what="the cancellation")
        assert process.returncode == 130  # the engine's own Ctrl-C exit
        assert card.progress.epoch < 5000
        assert card.progress.message.startswith("training cancelled after epoch")
        with pytest.raises(NotFoundError):
            open_registries().resolve("tui-cancel")
        staging = paths.registry_root() / ".staging"
        assert not staging.exists() or not any(staging.iterdir())
        assert (paths.runs_root() / "tui-cancel").is_dir()  # kept, so the run can resume


async def test_compare_runs_three_architectures_one_after_another(monkeypatch):
    from rnn_tui.tui import run_plans

    # long runs, so that each is still running when the test cancels it (a loaded machine
    # can take seconds to deliver a keystroke; the demo's 30 epochs take about as long)
    monkeypatch.setattr(run_plans, "MULTIPLICATION_ARGUMENTS", ["--epochs", "5000"])
    app = RnnTuiApp()
    async with app.run_test(size=(120, 30)) as pilot:
        await submit(pilot, "/compare")
        first, second, third = cards(app)
        assert [card.progress.label for card in (first, second, third)] == \
            ["simplernn", "lstm", "gru"]
        assert second.progress.status == QUEUED and third.progress.status == QUEUED
        await wait_for(pilot, lambda: first.progress.status == RUNNING, timeout=120,
                       what="the first run")
        assert second.progress.status == QUEUED  # one at a time
        await submit(pilot, "/cancel simplernn")
        await wait_for(pilot, lambda: second.progress.status == RUNNING, timeout=120,
                       what="the second run to take its turn")
        assert first.progress.status == CANCELLED
        await submit(pilot, "/cancel")
        await wait_for(pilot, lambda: all(card.progress.done for card in cards(app)),
                       timeout=60, what="everything to stop")
        assert third.progress.message == "cancelled before it started"


async def test_quitting_while_training_asks_then_stops_the_run():
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await submit(pilot, f"/train multiplication {TINY} --epochs 5000 --name tui-quit")
        [card] = cards(app)
        await wait_for(pilot, lambda: card.progress.status == RUNNING, timeout=120,
                       what="the run")
        process = app.query_one("#training-pane")._processes[card.run_id].process
        await pilot.press("ctrl+q")
        await pilot.pause(0.3)
        assert app.is_running and process.poll() is None  # the first Ctrl+Q only asks
        await pilot.press("ctrl+q")
        # the app leaves at once; the run, asked to stop, cleans up in its own process
        await wait_for(pilot, lambda: not app.is_running, timeout=10, what="the exit")
    assert process.wait(timeout=60) is not None
    with pytest.raises(NotFoundError):
        open_registries().resolve("tui-quit")  # cancelled: nothing published
