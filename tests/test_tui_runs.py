"""Training runs as the Training pane sees them: plans from commands, progress from events."""

from __future__ import annotations

import pytest

from rnn_tui.errors import NotFoundError, UserError
from rnn_tui.train import events
from rnn_tui.tui.commands import parse_command
from rnn_tui.tui.run_plans import compare_plans, train_plan
from rnn_tui.tui.run_progress import (
    CANCELLED,
    CANCELLING,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    RunProgress,
)


def test_train_plan_passes_the_options_to_the_train_command():
    plan = train_plan(parse_command("/train imdb --arch gru --epochs 2 --restart"))
    assert plan.arguments == ["train", "--dataset", "imdb", "--arch", "gru", "--epochs", "2",
                              "--restart"]
    assert plan.label == "imdb gru"
    named = train_plan(parse_command("/train --preset tutorial-reuters-lstm --name mine"))
    assert named.label == "mine"


@pytest.mark.parametrize("command, error, message", [
    ("/train", UserError, "no dataset"),
    ("/train imdb --epochs 0", UserError, "epochs must be a whole number >= 1"),
    ("/train imbd", NotFoundError, "Did you mean 'imdb'?"),
    ("/train imdb --arch lstn", UserError, "unknown architecture 'lstn'"),
    ("/train imdb --preset nope", NotFoundError, "no preset named 'nope'"),
    ("/train imdb --validation 2", UserError, "validation fraction must be in (0, 1)"),
])
def test_train_plan_refuses_bad_arguments_before_starting(command, error, message):
    with pytest.raises(error) as caught:
        train_plan(parse_command(command))
    assert message in str(caught.value)


def test_compare_is_the_tutorial_comparison_by_default():
    plans = compare_plans(None)
    assert [plan.label for plan in plans] == ["simplernn", "lstm", "gru"]
    assert plans[1].arguments[:3] == ["train", "--preset", "tutorial-multiplication-lstm"]
    assert plans[1].arguments[-2:] == ["--name", "compare-multiplication-lstm"]
    text = compare_plans("nsmc")
    assert text[2].arguments[1:5] == ["--dataset", "nsmc", "--arch", "gru"]
    assert "--train-limit" in text[2].arguments  # demo size
    assert compare_plans("/data/My Reviews.csv")[0].arguments[-1] == \
        "compare-my-reviews-simplernn"
    with pytest.raises(NotFoundError):
        compare_plans("imbd")


def fold(*stream) -> RunProgress:
    progress = RunProgress("lstm")
    for event in stream:
        progress.apply(event)
    return progress


STARTED = events.RunStarted(name="x", config={}, epochs=3, steps_per_epoch=10,
                            params={"total": 1234}, train_size=640, device="GPU", time=100.0)


def test_progress_follows_the_events():
    progress = fold(
        STARTED,
        events.EpochStarted(epoch=1, epochs=3),
        events.BatchEnded(epoch=1, step=4, steps=10, logs={"loss": 0.9, "accuracy": 0.5}),
    )
    assert (progress.status, progress.epoch, progress.step, progress.steps) == (RUNNING, 0, 4,
                                                                                10)
    assert progress.params == 1234 and progress.logs["accuracy"] == 0.5
    assert progress.device == "GPU"
    progress.apply(events.EpochEnded(epoch=1, epochs=3, seconds=2.0, logs={
        "loss": 0.8, "accuracy": 0.6, "val_loss": 0.85, "val_accuracy": 0.55}))
    progress.apply(events.EpochEnded(epoch=2, epochs=3, seconds=2.0, logs={
        "loss": 0.6, "accuracy": 0.7, "val_loss": 0.7, "val_accuracy": 0.65}))
    assert progress.history["val_accuracy"] == [0.55, 0.65]
    assert progress.metric_names() == ("loss", "accuracy")
    progress.apply(events.Note(text="the validation split is the test split"))
    progress.apply(events.RunFinished(name="x", model_ref="x:1", test_metrics={
        "accuracy": 0.7}, duration_s=5.0, epochs_run=2, stopped_early=True, time=106.0))
    assert progress.status == FINISHED and progress.done and progress.model_ref == "x:1"
    assert progress.elapsed == pytest.approx(6.0)
    assert progress.notes[-1] == "stopped early after epoch 2"


def test_a_resumed_run_starts_from_its_epochs():
    progress = fold(events.RunStarted(name="x", config={}, epochs=5, steps_per_epoch=3,
                                      params={}, resumed_from=2))
    assert progress.epoch == 2 and progress.notes == ["resumed after epoch 2"]


def test_failure_and_cancellation():
    failed = fold(STARTED, events.RunFailed(message="out of memory", epoch=1))
    assert (failed.status, failed.message) == (FAILED, "out of memory")
    cancelled = fold(STARTED, events.RunCancelled(epoch=1, message="kept epoch 1"))
    assert (cancelled.status, cancelled.message) == (CANCELLED, "kept epoch 1")


def test_a_process_that_dies_without_a_last_event_is_a_failure():
    progress = fold(STARTED)
    progress.exited(1, "Traceback ...\nMemoryError: cannot allocate")
    assert (progress.status, progress.message) == (FAILED, "MemoryError: cannot allocate")
    quiet = RunProgress("gru", status=QUEUED)
    quiet.exited(-9, "")
    assert quiet.message == "the training process exited with code -9"
    stopping = fold(STARTED)
    stopping.status = CANCELLING
    stopping.exited(130, "")
    assert stopping.status == CANCELLED
    finished = fold(STARTED, events.RunFinished(name="x", model_ref="x:1", test_metrics={},
                                                duration_s=1.0, epochs_run=1))
    finished.exited(0, "")
    assert finished.status == FINISHED  # the last event decides
