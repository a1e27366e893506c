"""Runs started elsewhere (another terminal, nohup, an earlier session) appear in the
Training pane, live, from their run logs; the app can stop them, and quitting leaves them."""

from __future__ import annotations

import signal
import subprocess
import sys

from rnn_tui.paths import run_logs_root
from rnn_tui.train import events
from rnn_tui.train.run_log import RunLogWriter
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.run_progress import CANCELLED, FAILED, FINISHED, RUNNING
from rnn_tui.tui.run_watcher import RunWatcher
from rnn_tui.tui.widgets.run_card import RunCard
from rnn_tui.tui.widgets.training_pane import TrainingPane
from tui_helpers import transcript_text, wait_for


def trainer_stand_in() -> subprocess.Popen:
    """A real process that exits 130 on SIGTERM, as rnn-tui train does."""
    return subprocess.Popen([sys.executable, "-c",
                             "import signal, sys, time\n"
                             "signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))\n"
                             "time.sleep(60)"])


def start_log(name: str, pid: int, epochs: int = 4) -> RunLogWriter:
    log = RunLogWriter(run_logs_root(), name, pid=pid)
    log(events.RunStarted(name=name, config={}, epochs=epochs, steps_per_epoch=8,
                          params={"total": 1000}))
    return log


def epoch(log: RunLogWriter, number: int, epochs: int = 4) -> None:
    log(events.EpochEnded(epoch=number, epochs=epochs, seconds=1.0,
                          logs={"loss": 0.5 / number, "val_loss": 0.6 / number}))


def test_the_watcher_reports_running_runs_then_new_ones(tmp_path):
    child = trainer_stand_in()
    try:
        old = RunLogWriter(tmp_path, "old")
        old(events.RunStarted(name="old", config={}, epochs=1, steps_per_epoch=1, params={}))
        old(events.RunFailed(message="boom"))
        live = RunLogWriter(tmp_path, "live", pid=child.pid)
        live(events.RunStarted(name="live", config={}, epochs=2, steps_per_epoch=1,
                               params={}))
        watcher = RunWatcher(tmp_path)
        first = watcher.poll()
        assert [update.name for update in first] == ["live"]  # the ended one is history
        assert watcher.poll() == []  # nothing new
        late = RunLogWriter(tmp_path, "late")
        late(events.RunStarted(name="late", config={}, epochs=1, steps_per_epoch=1,
                               params={}))
        late(events.RunFinished(name="late", model_ref="late:1", test_metrics={},
                                duration_s=1.0, epochs_run=1))
        assert [update.name for update in watcher.poll()] == ["late"]  # new: even if over
        child.kill()
        child.wait()
        lost = watcher.poll()
        assert [(update.name, update.lost) for update in lost] == [("live", True)]
        watcher.ignore_pid(12345)
    finally:
        if child.poll() is None:
            child.kill()


async def test_a_run_started_elsewhere_shows_live_and_its_end_is_said():
    child = trainer_stand_in()
    try:
        log = start_log("nohup-run", child.pid)
        epoch(log, 1)
        app = RnnTuiApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f3")
            pane = app.query_one(TrainingPane)
            await wait_for(pilot, lambda: pane.query(RunCard), what="the card", timeout=10)
            card = pane.query_one(RunCard)
            assert card.progress.label == f"nohup-run (pid {child.pid})"
            assert card.progress.status == RUNNING and card.progress.epoch == 1
            assert not pane.busy  # quitting the app leaves it running
            epoch(log, 2)
            await wait_for(pilot, lambda: card.progress.epoch == 2, what="epoch 2", timeout=10)
            assert card.progress.history["loss"] == [0.5, 0.25]
            log(events.RunFinished(name="nohup-run", model_ref="nohup-run:1",
                                   test_metrics={"loss": 0.2}, duration_s=3.0, epochs_run=2))
            await wait_for(pilot, lambda: card.progress.status == FINISHED, what="the end",
                           timeout=10)
            await wait_for(pilot, lambda: "✓ nohup-run (pid" in transcript_text(app, 200),
                           what="the transcript", timeout=5)
            assert "published nohup-run:1" in transcript_text(app, 200)
    finally:
        child.kill()
        child.wait()


async def test_the_app_stops_a_run_started_elsewhere_by_name():
    child = trainer_stand_in()
    try:
        log = start_log("far-run", child.pid)
        app = RnnTuiApp()
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(TrainingPane)
            await wait_for(pilot, lambda: pane.query(RunCard), what="the card", timeout=10)
            card = pane.query_one(RunCard)
            assert pane.run_names() == ["far-run"]
            app.run_command_text("/cancel")  # all: this app's runs only
            assert child.poll() is None
            app.run_command_text("/cancel far-run")
            assert child.wait(timeout=10) == 130
            log(events.RunCancelled(epoch=0))  # what the engine writes as it stops
            await wait_for(pilot, lambda: card.progress.status == CANCELLED,
                           what="the cancelled card", timeout=10)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.wait()


async def test_a_run_killed_elsewhere_is_shown_as_failed():
    child = trainer_stand_in()
    try:
        start_log("killed-run", child.pid)
        app = RnnTuiApp()
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(TrainingPane)
            await wait_for(pilot, lambda: pane.query(RunCard), what="the card", timeout=10)
            card = pane.query_one(RunCard)
            child.kill()
            child.wait()
            await wait_for(pilot, lambda: card.progress.status == FAILED, what="the failure",
                           timeout=10)
            assert "without a last word" in card.progress.message
    finally:
        if child.poll() is None:
            child.kill()


STAND_IN_TRAINER = (
    "import json, sys, time\n"
    "print(json.dumps({'event': 'RunStarted', 'time': time.time(), 'name': 'stand-in',"
    " 'config': {}, 'epochs': 3, 'steps_per_epoch': 4, 'params': {}}), flush=True)\n"
    "time.sleep(120)\n"
)


async def test_quit_can_leave_a_run_training(monkeypatch):
    """Ctrl+Q during a run, then Ctrl+D: the app quits at once and the run goes on."""
    from rnn_tui.tui.events_process import EventsProcess
    from rnn_tui.tui.widgets import training_pane

    class StandIn(EventsProcess):
        @property
        def command(self) -> list[str]:
            return [sys.executable, "-c", STAND_IN_TRAINER]

    monkeypatch.setattr(training_pane, "EventsProcess", StandIn)
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TrainingPane)
        assert app.run_command_text("/train multiplication --epochs 3")
        await wait_for(pilot, lambda: pane.query(RunCard) and
                       pane.query_one(RunCard).progress.status == RUNNING,
                       what="the run", timeout=20)
        process = next(iter(pane._processes.values()))
        chat_input = app.query_one("#input")
        chat_input.value, chat_input.cursor_position = "ab", 0
        await pilot.press("ctrl+d")  # no quit asked for: the input's delete
        assert chat_input.value == "b" and app.is_running
        await pilot.press("ctrl+q")
        app._disarm_quit()  # as 10 s later: the question lapses
        await pilot.press("ctrl+d")
        assert chat_input.value == "" and app.is_running
        await pilot.press("ctrl+q", "ctrl+d")
        await wait_for(pilot, lambda: not app.is_running, what="the exit", timeout=5)
    try:
        assert process.process.poll() is None  # still training
        assert process.detached
    finally:
        process.process.kill()
        process.process.wait()
