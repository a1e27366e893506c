"""Training events (to_dict/from_dict) and their three renderers: rich, plain and JSON."""

from __future__ import annotations

import io
import json
import math
import threading

import pytest

from rnn_tui.train.events import (
    EVENT_TYPES,
    BatchEnded,
    CheckpointSaved,
    EpochEnded,
    EpochStarted,
    Note,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    event_from_dict,
)
from rnn_tui.train.render import JsonEventWriter, PlainRenderer, RichRenderer, format_logs


def a_run(epochs: int = 2, steps: int = 40):
    """The events of a small run, in the engine's order."""
    events = [RunStarted(name="demo", config={"dataset": "imdb"}, epochs=epochs,
                         steps_per_epoch=steps, params={"total": 1234, "trainable": 1234,
                                                        "non_trainable": 0},
                         train_size=100, validation_size=20, test_size=30),
              Note(text="maxlen 10", topic="data")]
    for epoch in range(1, epochs + 1):
        events.append(EpochStarted(epoch=epoch, epochs=epochs))
        for step in range(1, steps + 1, 7):
            events.append(BatchEnded(epoch=epoch, step=step, steps=steps,
                                     logs={"loss": 0.7 - step / 100, "accuracy": 0.5}))
        events.append(BatchEnded(epoch=epoch, step=steps, steps=steps,
                                 logs={"loss": 0.4, "accuracy": 0.8}))
        events.append(EpochEnded(epoch=epoch, epochs=epochs, seconds=1.25,
                                 logs={"loss": 0.4, "accuracy": 0.8, "val_loss": 0.5,
                                       "val_accuracy": 0.75}))
        events.append(CheckpointSaved(path="/runs/demo/best.weights.h5", epoch=epoch,
                                      metric="val_loss", value=0.5))
    events.append(RunFinished(name="demo", model_ref="demo:1", test_metrics={"loss": 0.5,
                                                                             "accuracy": 0.75},
                              duration_s=3.5, epochs_run=epochs, aliases=["best"]))
    return events


def test_every_event_round_trips_through_json():
    samples = a_run() + [RunFailed(message="out of memory", epoch=2),
                         RunCancelled(epoch=1, run_dir="/runs/x", message="cancelled")]
    assert {type(e).__name__ for e in samples} == set(EVENT_TYPES)
    for event in samples:
        data = json.loads(json.dumps(event.to_dict()))
        assert data["event"] == type(event).__name__
        assert event_from_dict(data) == event


def test_non_finite_numbers_become_null():
    event = EpochEnded(epoch=1, epochs=1, logs={"loss": math.nan, "val_loss": math.inf},
                       seconds=1.0)
    text = json.dumps(event.to_dict(), allow_nan=False)
    assert json.loads(text)["logs"] == {"loss": None, "val_loss": None}


def test_unknown_events_are_refused():
    with pytest.raises(ValueError, match="not a training event"):
        event_from_dict({"event": "Bogus"})


def test_json_writer_writes_one_parsable_line_per_event():
    stream = io.StringIO()
    writer = JsonEventWriter(stream)
    events = a_run()
    for event in events:
        writer(event)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(events)
    assert [event_from_dict(json.loads(line)) for line in lines] == events


def test_json_writer_keeps_lines_whole_across_threads():
    stream = io.StringIO()
    writer = JsonEventWriter(stream)
    note = Note(text="x" * 2000)
    threads = [threading.Thread(target=lambda: [writer(note) for _ in range(50)])
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 200 and all(json.loads(line)["text"] == note.text for line in lines)


def test_plain_renderer_has_one_line_per_epoch_and_no_carriage_returns():
    stream = io.StringIO()
    renderer = PlainRenderer(stream)
    renderer.MIN_PROGRESS_INTERVAL_S = 0.0  # show the 25/50/75% lines
    for event in a_run(epochs=3):
        renderer(event)
    text = stream.getvalue()
    assert "\r" not in text and "\b" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines[0].startswith("training demo: 100 train / 20 validation / 30 test rows")
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert epoch_lines[0] == ("epoch 1/3  1.2s  loss 0.4000  accuracy 0.8000  val_loss 0.5000  "
                              "val_accuracy 0.7500")
    assert len(epoch_lines) == 3
    progress = [line for line in lines if line.startswith("  epoch 1 step")]
    assert 1 <= len(progress) <= 3
    assert lines[-1] == ("published demo:1 (now @best): test loss 0.5000  accuracy 0.7500; "
                         "3 epoch(s) in 3.5s")


def test_plain_renderer_keeps_quiet_within_short_epochs():
    stream = io.StringIO()
    renderer = PlainRenderer(stream)  # progress lines only 5 s after the last line
    for event in a_run():
        renderer(event)
    assert " step " not in stream.getvalue()


def test_rich_renderer_draws_without_errors():
    from rich.console import Console

    output = io.StringIO()
    renderer = RichRenderer(Console(file=output, force_terminal=True, width=100))
    for event in a_run():
        renderer(event)
    renderer(RunCancelled(epoch=1, message="stopped"))
    text = output.getvalue()
    assert "epoch 2/2" in text and "published demo:1" in text and "cancelled: stopped" in text


def test_format_logs_orders_train_before_validation():
    assert format_logs({"val_loss": 0.5, "accuracy": 0.8, "loss": 0.4}) == \
        "loss 0.4000  accuracy 0.8000  val_loss 0.5000"
    assert format_logs({"val_accuracy": 0.5, "accuracy": 0.8}, short=True) == \
        "acc 0.8000  val_acc 0.5000"
