"""The engine's callbacks by role: their required order, and callbacks added by callers."""

from __future__ import annotations

import pytest

from rnn_tui.train.callbacks import EngineCallbacks


def test_as_list_keeps_the_order_that_keeps_the_run_folder_consistent():
    callbacks = EngineCallbacks(events="events", run_state="state", backup="backup",
                                best="best", early_stopping="stopping")
    assert callbacks.as_list() == ["events", "state", "best", "stopping", "backup"]
    without = EngineCallbacks(events="events", run_state="state", backup="backup")
    assert list(without) == ["events", "state", "backup"]


def test_adding_callbacks_keeps_the_roles_and_puts_them_last():
    callbacks = EngineCallbacks(events="events", run_state="state", backup="backup",
                                early_stopping="stopping")
    more = callbacks + ["record"]
    assert more.as_list() == ["events", "state", "stopping", "backup", "record"]
    assert more.backup == "backup" and more.early_stopping == "stopping"
    assert callbacks.extra == []  # a copy: the original is unchanged


@pytest.mark.slow  # imports Keras
def test_make_callbacks_builds_each_role(tmp_path):
    from rnn_tui.backend import keras
    from rnn_tui.train.keras_callbacks import (
        AtomicBackupAndRestore,
        BestCheckpoint,
        EventCallback,
        ResumableEarlyStopping,
        RunStateCallback,
        make_callbacks,
    )

    class State:
        def best_value(self):
            return None

    callbacks = make_callbacks(
        keras=keras(), on_event=lambda event: None, run_state=State(), epochs=2,
        steps_per_epoch=3, train_rows=10, backup_dir=tmp_path / "backup",
        best_path=tmp_path / "best.weights.h5",
        early_stopping={"patience": 2, "restore_best_weights": True, "resume": None})
    assert [type(c) for c in callbacks] == [EventCallback, RunStateCallback, BestCheckpoint,
                                            ResumableEarlyStopping, AtomicBackupAndRestore]
