"""A training outlives the program that started it: when the app that reads its events
quits or its SSH session drops (SIGHUP), the run goes on, publishes, and its log shows it
to whoever looks next."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from rnn_tui.paths import run_logs_root
from rnn_tui.train import events
from rnn_tui.train.render import JsonEventWriter
from rnn_tui.train.run_log import find_run


def test_the_json_writer_falls_silent_when_its_reader_is_gone():
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = os.fdopen(write_end, "w")
    writer = JsonEventWriter(stream)
    for epoch in (1, 2):  # no BrokenPipeError, now or later
        writer(events.EpochEnded(epoch=epoch, epochs=2, logs={"loss": 0.1}, seconds=1.0))
    stream.close()  # the flush at exit goes to /dev/null


PARENT = textwrap.dedent("""
    import signal, sys, time
    from rnn_tui.tui.events_process import EventsProcess

    # as in a terminal: a test run started under nohup would hand this process SIGHUP ignored
    signal.signal(signal.SIGHUP, signal.SIG_DFL)

    process = EventsProcess(["train", "--dataset", "multiplication", "--epochs", "25",
                               "--name", "orphan"])
    process.start()
    for event in process.events():
        if type(event).__name__ == "EpochEnded":
            print(process.process.pid, flush=True)  # training: now the parent dies
            time.sleep(600)
""")


@pytest.mark.slow
async def test_a_run_started_by_the_app_survives_a_sighup_and_a_new_app_shows_it():
    from rnn_tui.registry import open_registries
    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.widgets.run_card import RunCard
    from rnn_tui.tui.widgets.training_pane import TrainingPane
    from tui_helpers import wait_for

    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ))
    trainer_pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGHUP)  # as tmux kill-session or a dropped SSH session does
    assert parent.wait(timeout=30) == -signal.SIGHUP
    try:
        app = RnnTuiApp()  # a new session, while the run trains
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one(TrainingPane)
            await wait_for(pilot, lambda: pane.query(RunCard), what="the orphan's card",
                           timeout=20)
            card = pane.query_one(RunCard)
            assert card.progress.label == f"orphan (pid {trainer_pid})"
            await wait_for(pilot, lambda: card.progress.done, what="the end", timeout=300)
            assert card.progress.status == "finished", card.progress.message
        assert find_run(run_logs_root(), "orphan").status == "finished"
        assert open_registries().resolve("orphan").ref == "orphan:1"  # published
    finally:
        try:
            os.kill(trainer_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
