"""``rnn-tui runs``: list, show, watch and stop runs from their event logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from rnn_tui.paths import run_logs_root
from rnn_tui.train import events
from rnn_tui.train.run_log import RunLogWriter, find_run
from train_support import run_cli


def log_run(name: str, *, finish: bool, pid: int | None = None) -> RunLogWriter:
    log = RunLogWriter(run_logs_root(), name, pid=pid)
    log(events.RunStarted(name=name, config={}, epochs=3, steps_per_epoch=8, params={}))
    log(events.Note(text="kernel: cuDNN off (CPU)"))
    for epoch in (1, 2):
        log(events.EpochEnded(epoch=epoch, epochs=3, seconds=1.5,
                              logs={"loss": 0.5 / epoch, "val_loss": 0.6 / epoch}))
    log(events.BatchEnded(epoch=3, step=4, steps=8, logs={"loss": 0.2}))
    if finish:
        log(events.RunFinished(name=name, model_ref=f"{name}:1",
                               test_metrics={"loss": 0.21}, duration_s=5.0, epochs_run=3))
    return log


def test_list_and_show(capsys):
    log_run("older", finish=True)
    time.sleep(0.01)
    live = log_run("live", finish=False)
    code, out, _ = run_cli(["runs", "list"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "STATUS", "PROGRESS"]
    assert lines[1].startswith("live") and "running" in lines[1] and "batch 4/8" in lines[1]
    assert lines[2].startswith("older") and "finished" in lines[2] and "→ older:1" in lines[2]
    code, out, _ = run_cli(["runs", "show", "older"], capsys)
    assert code == 0
    assert "older: finished, epoch 2/3" in out and "note: kernel: cuDNN off" in out
    assert "epoch 2/3 (1.5 s)  loss 0.25  val_loss 0.3" in out
    assert "finished: → older:1  (test_loss 0.21)" in out
    live.close()


def test_no_runs_and_unknown_names(capsys):
    code, out, _ = run_cli(["runs", "list"], capsys)
    assert code == 0 and "no runs yet" in out
    log_run("known", finish=True)
    code, _, err = run_cli(["runs", "show", "unknown"], capsys)
    assert code == 2 and "no run named 'unknown' (runs: known)" in err
    code, _, err = run_cli(["runs", "stop", "known"], capsys)
    assert code == 2 and "known is not running (finished)" in err


def test_watch_replays_a_finished_run(capsys):
    log_run("done", finish=True)
    code, out, _ = run_cli(["runs", "watch", "done", "--plain"], capsys)
    assert code == 0
    assert "epoch 2/3" in out and "done:1" in out


def test_watch_shows_a_last_word_written_between_its_read_and_its_check(capsys, monkeypatch):
    """The race CI met: the run cancels right after watch read its log and before watch asks
    whether it is over. Watch must show the cancellation, not call the run killed."""
    from rnn_tui.train import run_log

    live = log_run("racing", finish=False)
    real_read_run = run_log.read_run
    calls = []

    def read_run_after_the_last_word(path, whole=True):
        calls.append(path)
        if len(calls) == 2:  # the first is find_run's; the second, watch asking "over?"
            live(events.RunCancelled(epoch=2, message="stopped by runs stop"))
        return real_read_run(path, whole)

    monkeypatch.setattr(run_log, "read_run", read_run_after_the_last_word)
    code, out, err = run_cli(["runs", "watch", "racing", "--plain"], capsys)
    assert code == 0, err
    assert "epoch 2/3" in out and "stopped by runs stop" in out and "killed" not in err


def test_stop_cancels_the_process_that_trains(capsys):
    # a stand-in trainer: a real process that exits 130 on SIGTERM, as rnn-tui train does
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal, sys, time\n"
                              "signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))\n"
                              "time.sleep(60)"])
    try:
        time.sleep(0.3)
        log_run("busy", finish=False, pid=child.pid).close()
        code, out, _ = run_cli(["runs", "stop", "busy"], capsys)
        assert code == 0 and f"stopping busy (pid {child.pid})" in out
        assert child.wait(timeout=10) == 130
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.wait()
    assert find_run(run_logs_root(), "busy").status == "ended"  # no last word: killed


@pytest.mark.slow
def test_a_headless_training_is_listed_watched_and_stopped(tmp_path):
    """Real processes: `rnn-tui train` in the background (as with nohup), then `runs list`,
    `runs watch` and `runs stop` from another 'terminal'."""
    environment = {**os.environ, "RNN_TUI_HOME": os.environ["RNN_TUI_HOME"],
                   "PYTHONUNBUFFERED": "1"}
    rnn_tui = [sys.executable, "-m", "rnn_tui"]
    trainer = subprocess.Popen([*rnn_tui, "train", "--dataset", "multiplication",
                                "--epochs", "200", "--name", "bg", "--plain"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=environment, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            listing = subprocess.run([*rnn_tui, "runs", "list"], capture_output=True,
                                     text=True, env=environment, timeout=60).stdout
            if "bg" in listing and "epoch 1/200" in listing or "epoch 2/200" in listing:
                break
            assert time.monotonic() < deadline, listing
            time.sleep(1)
        assert "running" in listing
        watch = subprocess.Popen([*rnn_tui, "runs", "watch", "bg", "--plain"],
                                 stdout=subprocess.PIPE, text=True, env=environment)
        stop = subprocess.run([*rnn_tui, "runs", "stop", "bg"], capture_output=True,
                              text=True, env=environment, timeout=60)
        assert stop.returncode == 0, stop.stderr
        assert trainer.wait(timeout=60) == 130
        out, _ = watch.communicate(timeout=30)
        assert watch.returncode == 0 and "epoch 1/200" in out and "cancelled" in out
        shown = subprocess.run([*rnn_tui, "runs", "show", "bg"], capture_output=True,
                               text=True, env=environment, timeout=60).stdout
        assert "bg: cancelled" in shown
    finally:
        if trainer.poll() is None:
            trainer.kill()
