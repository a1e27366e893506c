"""Run logs: every training's events as JSON lines, folded back into a run's state."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from rnn_tui.train import events
from rnn_tui.train.run_log import (
    RunLogWriter,
    find_run,
    list_runs,
    prune,
    read_events,
    read_run,
)


def started(name="imdb-lstm", epochs=3):
    return events.RunStarted(name=name, config={}, epochs=epochs, steps_per_epoch=10,
                             params={})


def finished(name="imdb-lstm"):
    return events.RunFinished(name=name, model_ref=f"{name}:1",
                              test_metrics={"loss": 0.4, "accuracy": 0.8}, duration_s=9.0,
                              epochs_run=3)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_finished_run_reads_back(tmp_path):
    log = RunLogWriter(tmp_path, "fallback")
    log(events.Note(text="loaded 2,560 rows"))  # before RunStarted: held, then written
    log(started())
    log(events.BatchEnded(epoch=1, step=5, steps=10, logs={"loss": 0.7}))
    log(events.EpochEnded(epoch=1, epochs=3, logs={"loss": 0.6}, seconds=1.0))
    log(finished())
    run = find_run(tmp_path, "imdb-lstm")
    assert run.status == "finished" and run.model_ref == "imdb-lstm:1"
    assert run.epoch == 1 and run.epochs == 3 and run.notes == ["loaded 2,560 rows"]
    assert run.metrics == {"test_loss": 0.4, "test_accuracy": 0.8}
    assert run.pid == os.getpid() and run.path.parent.name == "imdb-lstm"


def test_a_run_whose_process_died_without_a_last_event_has_ended(tmp_path):
    log = RunLogWriter(tmp_path, pid=dead_pid())
    log(started())
    log.close()
    run = list_runs(tmp_path)[0]
    assert run.status == "ended" and "without a last word" in run.message


def test_a_half_written_line_waits_and_a_damaged_one_is_skipped(tmp_path):
    log = RunLogWriter(tmp_path)
    log(started())
    log.close()
    path = list_runs(tmp_path)[0].path
    with open(path, "a", encoding="utf-8") as file:
        file.write("{not json\n")
        file.write('{"event": "EpochEnded", "epoch": 1, "epo')  # still being written
    got, offset = read_events(path)
    assert [type(event).__name__ for event in got] == ["RunStarted"]
    with open(path, "a", encoding="utf-8") as file:
        file.write('chs": 3, "logs": {}, "seconds": 1.0}\n')
    more, _ = read_events(path, offset)
    assert [type(event).__name__ for event in more] == ["EpochEnded"]


def test_a_run_that_fails_before_it_starts_is_logged_under_its_fallback_name(tmp_path):
    log = RunLogWriter(tmp_path, "nosuchcorpus")
    log(events.RunFailed(message="unknown corpus 'nosuchcorpus'"))
    run = find_run(tmp_path, "nosuchcorpus")
    assert run.status == "failed" and "unknown corpus" in run.message


def test_unknown_names_are_a_user_error(tmp_path):
    import pytest

    from rnn_tui.errors import UserError

    RunLogWriter(tmp_path)(started("a"))
    with pytest.raises(UserError, match=r"no run named 'b' \(runs: a\)"):
        find_run(tmp_path, "b")


def test_prune_keeps_the_newest_finished_and_every_running_one(tmp_path):
    for index in range(4):
        log = RunLogWriter(tmp_path)
        log(started(f"run{index}"))
        log(finished(f"run{index}"))
        time.sleep(0.01)
    running = RunLogWriter(tmp_path)  # this process: alive
    running(started("live"))
    old = list_runs(tmp_path)
    deleted = prune(tmp_path, keep=2)
    assert {path.parent.name for path in deleted} == {"run0", "run1"}
    assert sorted(run.name for run in list_runs(tmp_path)) == ["live", "run2", "run3"]
    assert len(old) == 5
    assert not (tmp_path / "run0").exists()  # the emptied folder goes too
    aged = prune(tmp_path, keep=100, max_age_days=-1)  # everything is "old"
    assert sorted(path.parent.name for path in aged) == ["run2", "run3"]
    assert read_run(list_runs(tmp_path)[0].path).name == "live"
    running.close()


def test_a_long_log_is_listed_from_its_head_and_tail(tmp_path):
    log = RunLogWriter(tmp_path)
    log(started("long", epochs=2000))
    for epoch in range(1, 1201):  # ~150 KB: more than head and tail
        log(events.EpochEnded(epoch=epoch, epochs=2000, logs={"loss": 1.0 / epoch},
                              seconds=0.1))
    log(finished("long"))
    listed = list_runs(tmp_path)[0]
    assert listed.name == "long" and listed.status == "finished"
    assert listed.epoch == 1200 and listed.epochs == 2000
    assert len(listed.events) < 1200  # not read whole
    assert len(read_run(listed.path).events) == 1202
