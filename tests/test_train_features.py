"""The research recipes' training features, end to end on tiny data: n-gram feature streams,
last-state pooling, length buckets with dynamic padding, learning-rate schedules, EMA weights
and float16 runtime weights.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnn_tui import paths
from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import UserError
from rnn_tui.registry import load_keras_model, open_registries
from rnn_tui.train import TrainConfig, train
from rnn_tui.train.engine import RunCancelledError
from rnn_tui.train.events import EpochEnded, Note
from rnn_tui.train.pipeline import (
    BUCKET_CHUNK_BATCHES,
    bucket_batches,
    eval_dataset,
    model_feed,
    text_lengths,
    train_dataset,
)
from train_support import FILLER, class_word

RESEARCH_ARCH = "emb:8 ngram-emb:4 spatial-dropout:0.3 gru:6 pool:max+average+last dropout:0.3"


def varied_corpus(train: int = 96, test: int = 32, seed: int = 0, name: str = "varied"
                  ) -> Corpus:
    """Binary texts of 1 to 14 words: the label's word once, among fillers."""
    rng = np.random.default_rng(seed)

    def rows(n):
        labels = rng.integers(0, 2, n)
        texts = []
        for label in labels:
            words = [class_word(int(label))] + list(rng.choice(FILLER, rng.integers(0, 14)))
            rng.shuffle(words)
            texts.append(" ".join(words))
        return Split(labels.astype(np.int64), texts=texts)

    return Corpus(name, "binary", ["negative", "positive"], "en", rows(train), rows(test))


def run(corpus, events=None, **settings):
    options = {"dataset": corpus.name, "epochs": 2, "batch_size": 16, "maxlen": 12,
               "validation": 0.25, **settings}
    collected = [] if events is None else events
    return train(TrainConfig(**options), collected.append, corpus=corpus), collected


# ---------------------------------------------------------------------------- n-gram streams
def test_ngram_streams_train_publish_and_predict_without_tensorflow_differences():
    from rnn_tui.infer import Predictor

    corpus = varied_corpus()
    result, events = run(corpus, arch=RESEARCH_ARCH, ngrams=[2], ngram_words=60, name="bigrams")
    card = result.card
    assert card["input"]["features"] == [
        {"name": "tokens", "n": 1, "file": "vocabulary.json", "size": card["vocabulary"]["size"]},
        {"name": "ngrams2", "n": 2, "file": "vocabulary-ngram2.json",
         "size": card["vocabulary"]["ngrams"][0]["size"]}]
    assert {"vocabulary.json", "vocabulary-ngram2.json"} <= set(card["files"])
    assert [layer["name"] for layer in card["layers"]][:5] == [
        "tokens", "ngrams2", "embedding", "embedding_ngrams2", "concatenate_streams"]
    assert result.data.x_train.shape[1:] == (12, 2)
    version = open_registries().resolve("bigrams")
    model = load_keras_model(version)  # safe mode
    feed = model_feed(result.data.x_test, ["tokens", "ngrams2"])
    expected = model.predict(feed, verbose=0)[:, 0]
    predictor = Predictor.load("bigrams")
    got = predictor.predict(corpus.test.texts)[:, 1]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # live: typing word by word gives the batch answer; an edit at the end costs one step
    session = predictor.session()
    text = corpus.test.texts[3]
    words = text.split()
    for count in range(1, len(words) + 1):
        prefix = " ".join(words[:count])
        np.testing.assert_allclose(session.update(prefix), predictor.predict([prefix])[0],
                                   atol=2e-6)
        assert session.steps_computed == (1 if count > 1 else 1)
    trace = predictor.trace(text)
    assert [token for token, _ in trace] == words
    np.testing.assert_allclose(trace[-1][1], predictor.predict([text])[0], atol=2e-6)


def test_predict_reads_an_ngram_model(capsys):
    from train_support import run_cli

    corpus = varied_corpus(seed=11)
    run(corpus, arch=RESEARCH_ARCH, ngrams=[2], ngram_words=60, name="cli-bigrams")
    text = corpus.test.texts[0]
    code, out, err = run_cli(["predict", "-m", "cli-bigrams", "--format", "jsonl", "--trace",
                              text, "zzz unknown words"], capsys)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and all("probabilities" in line or "label" in line
                                   for line in lines)


def test_ngram_settings_are_checked_before_any_data_is_read():
    with pytest.raises(UserError, match="OOV token"):
        TrainConfig(dataset="imdb", arch=RESEARCH_ARCH, ngrams=[2], oov_token=None)
    with pytest.raises(UserError, match="add ngram-emb"):
        TrainConfig(dataset="imdb", arch="emb:8 gru:4", ngrams=[2])
    with pytest.raises(UserError, match="--ngrams"):
        TrainConfig(dataset="imdb", arch=RESEARCH_ARCH)
    with pytest.raises(UserError, match="one per order"):
        TrainConfig(dataset="imdb", arch=RESEARCH_ARCH, ngrams=[2, 3], ngram_words=[10, 20, 30])
    # a named architecture gets an n-gram embedding of 32 by itself
    config = TrainConfig(dataset="imdb", arch="gru", ngrams=2)
    assert config.ngrams == [2] and config.arch_knobs()["ngram_dim"] == 32


def test_a_resumed_ngram_run_reuses_its_vocabularies():
    corpus = varied_corpus(seed=2)
    settings = dict(arch=RESEARCH_ARCH, ngrams=[2, 3], ngram_words=[40, 30], epochs=3,
                    name="resume-ngrams")
    events = []
    with pytest.raises(RunCancelledError):
        train(TrainConfig(dataset="varied", maxlen=12, batch_size=16, validation=0.25,
                          **settings), events.append, corpus=corpus,
              should_stop=lambda: sum(isinstance(e, EpochEnded) for e in events) >= 1)
    run_dir = paths.runs_root() / "resume-ngrams"
    assert {p.name for p in run_dir.glob("vocabulary*.json")} == {
        "vocabulary.json", "vocabulary-ngram2.json", "vocabulary-ngram3.json"}
    resumed, _ = run(corpus, **settings)
    straight, _ = run(corpus, **{**settings, "name": "straight-ngrams"})
    for a, b in zip(resumed.model.get_weights(), straight.model.get_weights()):
        assert np.array_equal(a, b)
    assert resumed.card["input"]["features"][2]["file"] == "vocabulary-ngram3.json"


# ---------------------------------------------------------------------------- length buckets
def test_bucketed_epochs_are_a_function_of_seed_and_epoch():
    rng = np.random.default_rng(1)
    lengths = rng.integers(0, 30, 1000)
    x = np.zeros((1000, 30), np.int32)
    for row, length in enumerate(lengths):
        x[row, :length] = rng.integers(1, 99, length)
    assert np.array_equal(text_lengths(x), lengths)
    batch = 6
    epoch0 = bucket_batches(lengths, batch, seed=5, epoch=0)
    assert sorted(np.concatenate(epoch0).tolist()) == list(range(1000))  # every row once
    assert [len(b) for b in epoch0].count(batch) == len(epoch0) - 1      # one short batch
    # batches come from chunks sorted by length: a batch spans a narrow range of lengths
    spread = np.mean([np.ptp(lengths[b]) for b in epoch0])
    assert spread < 2 and np.ptp(lengths) > 25
    assert BUCKET_CHUNK_BATCHES * batch < 1000  # several chunks: the sort is per chunk
    epoch1 = bucket_batches(lengths, batch, seed=5, epoch=1)
    assert any(not np.array_equal(a, b) for a, b in zip(epoch0, epoch1))
    assert all(np.array_equal(a, b) for a, b in
               zip(epoch0, bucket_batches(lengths, batch, seed=5, epoch=0)))
    # the dataset gives exactly those batches, each padded to its longest text; a run
    # resumed at epoch 1 gets the uninterrupted run's epoch 1
    y = np.arange(1000, dtype=np.float32)
    dataset, steps = train_dataset(x, y, batch_size=batch, seed=5, first_epoch=0, epochs=2,
                                   lengths=lengths)
    seen = list(dataset)
    assert len(seen) == 2 * steps
    for (features, labels), rows in zip(seen, epoch0 + epoch1):
        assert np.array_equal(labels.numpy(), rows.astype(np.float32))
        assert features.shape[1] == max(int(lengths[rows].max()), 1)
        assert np.array_equal(features.numpy(), x[rows, : features.shape[1]])
    resumed, _ = train_dataset(x, y, batch_size=batch, seed=5, first_epoch=1, epochs=2,
                               lengths=lengths)
    assert all(np.array_equal(a[1].numpy(), b[1].numpy())
               for a, b in zip(seen[steps:], resumed))


def test_dynamic_padding_gives_the_results_of_full_padding():
    """The same batches, padded to their longest text or to maxlen: the same training
    (spatial dropout, recurrent dropout and dropout on vectors draw the same numbers) and
    the same evaluation."""
    from rnn_tui.backend import keras, tensorflow
    from rnn_tui.nets import ModelInput, build_model, normalize_spec

    tf = tensorflow()
    rng = np.random.default_rng(3)
    rows, width = 96, 16
    lengths = rng.integers(1, width + 1, rows)
    x = np.zeros((rows, width, 2), np.int32)
    for row, length in enumerate(lengths):
        x[row, :length, 0] = rng.integers(1, 40, length)
        x[row, :length, 1] = rng.integers(1, 30, length)
    y = (x[..., 0].sum(axis=1) % 2).astype(np.float32)
    names = ["tokens", "ngrams2"]
    spec = normalize_spec("emb:6 ngram-emb:3 spatial-dropout:0.3 gru:5,dropout=0.2 "
                          "pool:max+average+last dropout:0.4")
    batches = bucket_batches(lengths, 8, seed=1, epoch=0) + bucket_batches(lengths, 8, seed=1,
                                                                            epoch=1)

    def fitted(dynamic: bool):
        keras().utils.set_random_seed(11)
        model = build_model(spec, ModelInput.tokens(None, 40, ngrams=((2, 30),)),
                            task="binary", padding="post")
        model.compile(optimizer=keras().optimizers.Adam(0.01), loss="binary_crossentropy")

        def batches_of():
            for rows_ in batches:
                cut = max(int(lengths[rows_].max()), 1) if dynamic else width
                yield model_feed(x[rows_, :cut], names), y[rows_]

        spec_x = {name: tf.TensorSpec((None, None), tf.int32) for name in names}
        dataset = tf.data.Dataset.from_generator(
            batches_of, output_signature=(spec_x, tf.TensorSpec((None,), tf.float32)))
        model.fit(dataset, epochs=1, verbose=0, shuffle=False)
        return model

    dynamic, full = fitted(True), fitted(False)
    for a, b in zip(dynamic.get_weights(), full.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(dynamic.get_weights()[0], build_model(
        spec, ModelInput.tokens(None, 40, ngrams=((2, 30),)), task="binary").get_weights()[0])
    bucketed = dynamic.evaluate(eval_dataset(x, y, batch_size=8, lengths=lengths,
                                             stream_names=names), verbose=0)
    padded = dynamic.evaluate(eval_dataset(x, y, batch_size=8, stream_names=names), verbose=0)
    assert bucketed == pytest.approx(padded, abs=1e-6)


def test_buckets_are_the_default_only_where_exact():
    corpus = varied_corpus(seed=4)
    bucketed, events = run(corpus, arch="emb:8 gru:4 pool:max+average", name="buckets")
    assert bucketed.card["training"]["length_buckets"] is True
    assert any(isinstance(e, Note) and "length buckets" in e.text for e in events)
    assert bucketed.card["layers"][0]["output_shape"] == "(None, None)"
    plain, _ = run(corpus, arch="emb:8 gru:4", padding="pre", name="no-buckets")
    assert plain.card["training"]["length_buckets"] is False
    assert plain.card["layers"][0]["output_shape"] == "(None, 12)"
    off, _ = run(corpus, arch="emb:8 gru:4", bucketing=False, name="off")
    assert off.card["training"]["length_buckets"] is False
    with pytest.raises(UserError, match="--bucketing would change"):
        run(corpus, arch="emb:8 bigru:4 pool:max", bucketing=True, name="refused")


# ---------------------------------------------------------------------------- schedules, EMA
def test_a_linear_schedule_decays_to_five_percent_and_resumes_where_it_stopped():
    corpus = varied_corpus(seed=5)
    settings = dict(arch="emb:8 gru:4", epochs=3, lr_schedule="linear", learning_rate=0.01,
                    ema=0.9, name="scheduled")
    events = []
    with pytest.raises(RunCancelledError):
        train(TrainConfig(dataset="varied", maxlen=12, batch_size=16, validation=0.25,
                          **settings), events.append, corpus=corpus,
              should_stop=lambda: sum(isinstance(e, EpochEnded) for e in events) >= 1)
    resumed, _ = run(corpus, **settings)
    straight, _ = run(corpus, **{**settings, "name": "scheduled-straight"})
    for a, b in zip(resumed.model.get_weights(), straight.model.get_weights()):
        assert np.array_equal(a, b)
    schedule = straight.card["training"]["lr_schedule"]
    steps = schedule["decay_steps"]
    assert schedule["kind"] == "linear" and steps == 3 * 5  # 72 rows / 16 -> 5 steps
    assert schedule["final"] == pytest.approx(0.0005)
    optimizer = straight.model.optimizer
    assert int(optimizer.iterations.numpy()) == steps
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.0005)
    halfway = optimizer._learning_rate(7)
    assert float(halfway) == pytest.approx(0.01 - (0.01 - 0.0005) * 7 / steps)


def test_ema_weights_are_the_ones_saved_and_exported(monkeypatch):
    """The published weights are the moving average of the raw trajectory (Keras' rule:
    the first step's weights, then m * average + (1 - m) * weights), and runtime.npz has
    them too."""
    from rnn_tui.infer.runtime import Runtime
    from rnn_tui.train import engine

    corpus = varied_corpus(seed=6)
    trajectory = []
    original = engine.make_callbacks

    def recording(**options):
        callbacks = original(**options)
        keras_module = options["keras"]

        class Record(keras_module.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                trajectory.append([v.numpy().copy() for v in self.model.trainable_weights])

        return callbacks + [Record()]

    settings = dict(arch="emb:8 spatial-dropout:0.2 gru:4 pool:max+last", epochs=2,
                    learning_rate=0.02)
    monkeypatch.setattr(engine, "make_callbacks", recording)
    raw, _ = run(corpus, name="raw", **settings)
    monkeypatch.setattr(engine, "make_callbacks", original)
    averaged, _ = run(corpus, name="averaged", ema=0.8, **settings)
    assert averaged.card["training"]["ema"]["momentum"] == 0.8
    expected = [w.copy() for w in trajectory[0]]
    for weights in trajectory[1:]:
        expected = [0.8 * e + 0.2 * w for e, w in zip(expected, weights)]
    saved = load_keras_model(open_registries().resolve("averaged"))
    for got, want, last in zip(saved.trainable_weights, expected, trajectory[-1]):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-6)
        assert not np.allclose(want, last, atol=1e-4)  # the average is not the last step
    version = open_registries().resolve("averaged")
    runtime = Runtime.load(version.file("runtime.npz"))
    x = averaged.data.x_test
    np.testing.assert_allclose(runtime.run(x, exact_length=False)[:, 0],
                               saved.predict(x, verbose=0)[:, 0], atol=1e-5, equal_nan=True)


def test_ema_and_best_weight_restore_are_refused_together():
    with pytest.raises(UserError, match="--ema and early stopping"):
        TrainConfig(dataset="imdb", ema=0.99, early_stopping=2)
    with pytest.raises(UserError, match=r"\(0, 1\)"):
        TrainConfig(dataset="imdb", ema=1.5)
    with pytest.raises(UserError, match="lr_schedule"):
        TrainConfig(dataset="imdb", lr_schedule="exponential")


# ---------------------------------------------------------------------------- float16
def test_float16_runtime_weights_are_checked_against_keras():
    corpus = varied_corpus(seed=7)
    result, _ = run(corpus, arch=RESEARCH_ARCH, ngrams=[2], ngram_words=60,
                    float16_weights=True, name="half")
    runtime = result.card["runtime"]
    assert runtime["dtype"] == "float16"
    check = runtime["check"]
    assert check["rows"] == 32 and check["split"] == "test"
    assert check["keras_accuracy"] == pytest.approx(result.test_metrics["accuracy"])
    assert check["agreement"] >= 0.9 and check["max_abs_difference"] < 5e-3
    version = open_registries().resolve("half")
    with np.load(version.file("runtime.npz"), allow_pickle=False) as archive:
        assert all(archive[key].dtype == np.float16 for key in archive.files
                   if key != "graph.json")
    assert json.loads(version.file("card.json").read_text())["training"]["float16_weights"]


def test_buckets_under_mirrored_strategy_match_one_device(tmp_path):
    """Two logical CPUs, each replica's slice padded to its global batch's longest text:
    the weights of one device with the global batch (64 rows: 4 global batches of 16)."""
    import os
    import subprocess
    import sys

    from train_support import write_csv

    csv = write_csv(tmp_path / "varied.csv", varied_corpus(train=64, test=16, seed=8))
    common = ["train", "--dataset", str(csv), "--arch", "emb:6 ngram-emb:3 gru:4 pool:max+last",
              "--ngrams", "2", "--ngram-words", "40", "--maxlen", "12", "--validation", "none",
              "--epochs", "2", "--seed", "3", "--lr-schedule", "cosine", "--json"]

    def cli(args):
        done = subprocess.run([sys.executable, "-m", "rnn_tui", *common, *args],
                              capture_output=True, text=True, timeout=300,
                              env=os.environ.copy())
        assert done.returncode == 0, done.stderr[-3000:]
        return [json.loads(line) for line in done.stdout.splitlines()]

    mirrored = cli(["--devices", "2", "--batch-size", "8", "--name", "mirrored"])
    single = cli(["--strategy", "one", "--batch-size", "16", "--name", "single"])
    assert any(e["event"] == "Note" and "length buckets" in e["text"] for e in mirrored)
    placement = next(e for e in mirrored if e["event"] == "RunStarted")["distribution"]
    assert placement["replicas"] == 2
    registries = open_registries()
    a = load_keras_model(registries.resolve("mirrored")).get_weights()
    b = load_keras_model(registries.resolve("single")).get_weights()
    assert max(float(np.max(np.abs(x - y))) for x, y in zip(a, b)) < 1e-5
    assert registries.resolve("mirrored").card["training"]["length_buckets"] is True


def test_evaluate_scores_an_ngram_model_like_training_did():
    from rnn_tui.train.scoring import evaluate_version

    corpus = varied_corpus(seed=9)
    result, _ = run(corpus, arch=RESEARCH_ARCH, ngrams=[2], ngram_words=60, name="scored")
    report = evaluate_version(open_registries().resolve("scored"), corpus=corpus)
    assert report["accuracy"] == pytest.approx(result.test_metrics["accuracy"])
    assert report["loss"] == pytest.approx(result.test_metrics["loss"], abs=1e-5)


def test_published_model_keras_holds_no_optimizer_state():
    """Keras 3.15's clone_model compiles the clone, whose optimizer slots were saved into
    model.keras (three times the weights with Adam); the published file has weights only."""
    import io
    import zipfile

    import h5py

    corpus = varied_corpus(seed=10)
    result, _ = run(corpus, arch="emb:16 gru:8", num_words=200, name="lean")
    version = open_registries().resolve("lean")
    with zipfile.ZipFile(version.file("model.keras")) as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        assert "optimizer" not in weights
        config = json.loads(archive.read("config.json"))
    assert not config.get("compile_config")
    parameters = result.card["params"]["total"]
    assert version.file("model.keras").stat().st_size < parameters * 4 * 1.5 + 60_000
