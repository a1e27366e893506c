"""The training engine end to end on tiny data: every architecture on every task, events,
reproducibility, early stopping, cancellation and the run folder, publishing and loading back.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui import paths
from rnn_tui.data.corpus import Split
from rnn_tui.errors import UserError
from rnn_tui.nets import NAMED_ARCHS
from rnn_tui.registry import load_keras_model, open_registries
from rnn_tui.train import TrainConfig, train
from rnn_tui.train.card_builder import better_than
from rnn_tui.train.engine import RunCancelledError
from rnn_tui.train.events import (
    BatchEnded,
    CheckpointSaved,
    EpochEnded,
    EpochStarted,
    Note,
    RunCancelled,
    RunFinished,
    RunStarted,
)
from train_support import sequence_corpus, text_corpus

TINY = {"units": 4, "embedding_dim": 4}
SEQUENCE_ARCHS = [name for name, arch in NAMED_ARCHS.items() if arch.style == "rnn"]


def run(corpus, events=None, **settings):
    options = {"dataset": corpus.name, "epochs": 1, "batch_size": 16, "maxlen": 10,
               "validation": 0.25, **settings}
    collected = [] if events is None else events
    result = train(TrainConfig(**options), collected.append, corpus=corpus)
    return result, collected


def assert_loads_back_identically(result):
    version = open_registries().resolve(result.model_ref)
    loaded = load_keras_model(version)
    inputs = result.data.x_test
    assert np.array_equal(loaded.predict(inputs, verbose=0),
                          result.model.predict(inputs, verbose=0))
    return version


def assert_card_is_complete(card, epochs_run):
    assert card["format"] == "rnn-tui-card"
    for section in ("task", "input", "dataset", "architecture", "training", "metrics",
                    "history", "layers", "params", "packages", "files"):
        assert card.get(section) not in (None, {}, []), section
    assert sum(layer["params"] for layer in card["layers"]) == card["params"]["total"]
    assert card["training"]["epochs_run"] == epochs_run
    assert all(len(series) == epochs_run for series in card["history"].values())
    assert card["metrics"]["test"]["loss"] is not None
    assert set(card["files"]) >= {"model.keras", "runtime.npz"}


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("arch", list(NAMED_ARCHS))
def test_every_architecture_trains_on_every_task(arch, task):
    corpus = text_corpus(task)
    options = dict(TINY) if arch not in ("flatten",) else {"embedding_dim": 4}
    result, events = run(corpus, arch=arch, arch_options=options, name=f"t-{arch}-{task}")
    assert isinstance(events[-1], RunFinished) and events[-1].model_ref == result.model_ref
    version = assert_loads_back_identically(result)
    card = version.card
    assert_card_is_complete(card, 1)
    assert card["task"] == task
    assert card["layers"][-1]["output_shape"] == \
        {"binary": "(None, 1)", "multiclass": "(None, 46)", "regression": "(None, 1)"}[task]
    assert set(card["metrics"]["test"]) == \
        ({"loss", "mae"} if task == "regression" else {"loss", "accuracy"})


@pytest.mark.parametrize("arch", SEQUENCE_ARCHS)
def test_recurrent_architectures_on_numeric_sequences(arch):
    result, _ = run(sequence_corpus(), arch=arch, arch_options={"units": 4}, name=f"s-{arch}")
    version = assert_loads_back_identically(result)
    assert version.card["input"] == {"kind": "sequence", "timesteps": 6, "channels": 2}
    assert "vocabulary" not in version.card


def test_events_come_in_order():
    corpus = text_corpus("binary", train=64)
    _, events = run(corpus, arch="gru", arch_options=TINY, epochs=3, name="order")
    kinds = [type(e).__name__ for e in events if not isinstance(e, Note)]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    started = events[[type(e) for e in events].index(RunStarted)]
    assert (started.epochs, started.steps_per_epoch, started.resumed_from) == (3, 3, 0)
    assert started.params["total"] > 0 and started.train_size == 48
    epoch = 0
    step = 0
    for event in events:
        if isinstance(event, EpochStarted):
            assert event.epoch == epoch + 1
            epoch, step = event.epoch, 0
        elif isinstance(event, BatchEnded):
            assert event.epoch == epoch and event.step > step and event.steps == 3
            step = event.step
        elif isinstance(event, EpochEnded):
            assert event.epoch == epoch and step == 3  # the last step is always reported
            assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(event.logs)
        elif isinstance(event, CheckpointSaved):
            assert event.epoch == epoch and event.metric == "val_loss"
    assert epoch == 3


def test_one_seed_gives_identical_weights_and_another_does_not():
    corpus = text_corpus("binary", train=64)
    settings = dict(arch="emb:8 dropout:0.2 lstm:4,dropout=0.1", epochs=2)
    first, _ = run(corpus, name="seed-a", seed=3, **settings)
    second, _ = run(corpus, name="seed-b", seed=3, **settings)
    third, _ = run(corpus, name="seed-c", seed=4, **settings)
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        assert np.array_equal(a, b)
    assert not all(np.array_equal(a, c) for a, c in
                   zip(first.model.get_weights(), third.model.get_weights()))
    assert first.history == second.history


def test_early_stopping_stops_and_restores_the_best_epoch():
    corpus = text_corpus("binary", train=64)
    # Validation labels are the opposite of what training teaches: val_loss only rises.
    flipped = Split(1 - corpus.train.labels[:16], texts=corpus.train.texts[:16])
    corpus.validation = flipped
    result, events = run(corpus, arch="emb:8 gru:4", epochs=20, validation="corpus",
                         early_stopping=2, optimizer="adam", learning_rate=0.05, name="early")
    training = result.card["training"]
    assert training["early_stopping"]["stopped_early"] is True
    assert training["epochs_run"] < 20
    best = training["early_stopping"]["best_epoch"]
    history = result.card["history"]["val_loss"]
    assert best == int(np.argmin(history)) + 1
    assert any(isinstance(e, Note) and e.topic == "early-stopping" for e in events)
    # The published model carries the best epoch's weights: its validation loss is the best.
    assert result.card["metrics"]["validation"]["loss"] == pytest.approx(min(history))


def test_cancel_keeps_the_run_and_the_same_command_resumes_it():
    corpus = text_corpus("binary", train=64)
    settings = dict(arch="emb:8 gru:4", epochs=4, name="cancel-me")
    events = []

    def stop_after_two():
        return sum(isinstance(e, EpochEnded) for e in events) >= 2

    with pytest.raises(RunCancelledError, match="after epoch 2 of 4"):
        train(TrainConfig(dataset="toy", maxlen=10, batch_size=16, **settings), events.append,
              corpus=corpus, should_stop=stop_after_two)
    assert isinstance(events[-1], RunCancelled) and events[-1].epoch == 2
    run_dir = paths.runs_root() / "cancel-me"
    assert (run_dir / "backup" / "training_metadata.json").exists()
    assert "cancel-me" not in open_registries().names()        # nothing published

    resumed, again = run(corpus, validation="auto", **settings)
    started = next(e for e in again if isinstance(e, RunStarted))
    assert started.resumed_from == 2
    assert [e.epoch for e in again if isinstance(e, EpochStarted)] == [3, 4]
    assert any(isinstance(e, Note) and "resuming from epoch 2" in e.text for e in again)
    assert resumed.card["training"]["epochs_run"] == 4
    assert resumed.card["training"]["sessions"] == 2
    assert len(resumed.card["history"]["loss"]) == 4
    assert not run_dir.exists()                                 # removed after publishing

    fresh, _ = run(corpus, validation="auto", **{**settings, "name": "no-break"})
    for a, b in zip(fresh.model.get_weights(), resumed.model.get_weights()):
        assert np.array_equal(a, b)


def test_another_config_under_the_same_name_is_refused_unless_restart():
    corpus = text_corpus("binary", train=64)
    events = []
    with pytest.raises(RunCancelledError):
        train(TrainConfig(dataset="toy", arch="emb:8 gru:4", epochs=3, maxlen=10, name="same"),
              events.append, corpus=corpus,
              should_stop=lambda: any(isinstance(e, EpochEnded) for e in events))
    with pytest.raises(UserError, match=r"different configuration .* epochs: 3 -> 2.*--restart"):
        train(TrainConfig(dataset="toy", arch="emb:8 gru:4", epochs=2, maxlen=10, name="same"),
              corpus=corpus)
    result = train(TrainConfig(dataset="toy", arch="emb:8 gru:4", epochs=2, maxlen=10,
                               name="same"), corpus=corpus, restart=True)
    assert result.model_ref == "same:1"


def test_a_run_without_a_finished_epoch_is_simply_replaced():
    corpus = text_corpus("binary", train=64)
    with pytest.raises(RunCancelledError, match="before the first epoch finished"):
        train(TrainConfig(dataset="toy", arch="emb:8 gru:4", epochs=3, maxlen=10, name="empty"),
              corpus=corpus, should_stop=lambda: True)
    result = train(TrainConfig(dataset="toy", arch="emb:8 gru:4", epochs=1, maxlen=10,
                               name="empty"), corpus=corpus)
    assert result.model_ref == "empty:1"


def test_no_validation_means_no_checkpoints():
    result, events = run(text_corpus("binary"), arch="emb:4 gru:2", validation="none",
                         epochs=2, name="noval")
    assert not any(isinstance(e, CheckpointSaved) for e in events)
    assert "val_loss" not in result.card["history"]
    assert result.card["dataset"]["validation_size"] == 0


def test_pretrained_vectors_are_loaded_and_reported(tmp_path):
    corpus = text_corpus("binary")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("w0 1 0 0 0\nw1 0 1 0 0\nfilm 0 0 1 0\nother 0 0 0 1\n")
    result, events = run(corpus, arch="lstm",
                         arch_options={"units": 4, "vectors": str(vectors),
                                       "vectors_trainable": False}, name="vectors")
    note = next(e for e in events if isinstance(e, Note) and e.topic == "vectors")
    assert "vectors.txt (glove, 4 dims)" in note.text and "(frozen)" in note.text
    card_vectors = result.card["architecture"]["vectors"]
    assert card_vectors["found"] == 3 and card_vectors["trainable"] is False
    embedding = result.model.get_layer("embedding")
    index = result.data.vocabulary.word_index["film"]
    assert np.array_equal(embedding.get_weights()[0][index], [0, 0, 1, 0])  # frozen: unchanged


def test_best_alias_moves_only_on_a_better_test_score():
    assert better_than({"task": "binary", "metrics": {"test": {"accuracy": 0.9}}}, None)
    assert better_than({"task": "binary", "metrics": {"test": {"accuracy": 0.9}}},
                       {"task": "binary", "metrics": {"test": {"accuracy": 0.8}}})
    assert not better_than({"task": "binary", "metrics": {"test": {"accuracy": 0.8}}},
                           {"task": "binary", "metrics": {"test": {"accuracy": 0.8}}})
    assert better_than({"task": "regression", "metrics": {"test": {"loss": 0.1}}},
                       {"task": "regression", "metrics": {"test": {"loss": 0.2}}})
    corpus = text_corpus("regression")
    first, _ = run(corpus, arch="emb:4 gru:2", epochs=3, name="twice")
    second, _ = run(corpus, arch="emb:4 gru:2", epochs=1, learning_rate=1e-6, name="twice")
    assert first.aliases == ["best"]
    registries = open_registries()
    assert registries.resolve("twice@best").version == 1
    assert second.model_ref == "twice:2" and second.aliases == []
