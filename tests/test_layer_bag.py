"""The bag-of-words input (``bag:binary|count|tfidf``), the tutorials' ``texts_to_matrix``
with a Dense model, added as a layer kind through the two kind tables.

The runtime matches Keras to 1e-5 in every mode; the vector is laid out as the tutorials'
(column = id, column 0 and the pads never counted); tfidf takes its idf from the training
vocabulary as the Tokenizer does; a preset and the compact form train it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.infer.export import export_runtime
from rnn_tui.infer.runtime import Runtime
from rnn_tui.infer.streaming import make_stream
from rnn_tui.nets import ModelInput, build_model, normalize_spec, resolve_arch, to_compact
from rnn_tui.text import Vocabulary
from test_infer_parity import STEPS, VOCABULARY, assert_parity, padded_ids, randomize

TEXTS = ["a fine film a fine cast", "a dull film", "fine fine fine", "the end"]


def fitted_vocabulary() -> Vocabulary:
    vocabulary = Vocabulary(num_words=VOCABULARY)
    vocabulary.fit(TEXTS)
    return vocabulary


def built(spec: str, vocabulary=None):
    model = build_model(normalize_spec(spec), ModelInput.tokens(STEPS, VOCABULARY),
                        task="binary", padding="post", vocabulary=vocabulary)
    randomize(model, seed=5, scale=0.3)
    return model


@pytest.mark.parametrize("mode", ["binary", "count", "tfidf"])
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_bag_matches_keras(tmp_path, mode, padding):
    model = built(f"bag:{mode} dense:8 dropout:0.2 dense:8", fitted_vocabulary())
    assert_parity(model, padded_ids(30, STEPS, padding), tmp_path)


def test_the_vector_is_texts_to_matrix(tmp_path):
    """Column = id, pads and column 0 empty: the tutorials' matrix (binary and count
    exactly; tfidf as Keras defines it, count x the Tokenizer's idf)."""
    from rnn_tui.backend import keras as get_keras

    vocabulary = fitted_vocabulary()
    sequences = vocabulary.texts_to_sequences(TEXTS)
    ids = np.zeros((len(TEXTS), STEPS), np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
    for mode in ("binary", "count", "tfidf"):
        model = built(f"bag:{mode}", vocabulary)
        bag = get_keras().Model(model.inputs, model.get_layer("bag").output)
        export_runtime(model, tmp_path / "runtime.npz")
        values = Runtime.load(tmp_path / "runtime.npz").evaluate_values(ids)
        got = values[Runtime.load(tmp_path / "runtime.npz").nodes[0].output].materialize()
        np.testing.assert_allclose(got, bag.predict(ids, verbose=0), atol=1e-6)
        tutorial = vocabulary.sequences_to_matrix(sequences, mode="count")[:, :VOCABULARY]
        expected = np.zeros_like(got)
        expected[:, : tutorial.shape[1]] = tutorial
        if mode == "binary":
            expected = (expected > 0).astype(np.float32)
        elif mode == "tfidf":
            word = vocabulary.word_index["fine"]
            idf = math.log(1 + vocabulary.document_count / (1 + vocabulary.word_docs["fine"]))
            assert got[2, word] == pytest.approx(3 * idf, rel=1e-6)
            continue
        np.testing.assert_array_equal(got, expected)
        assert not got[:, 0].any()


def test_streams_by_recomputing(tmp_path):
    model = built("bag:count dense:4")
    export_runtime(model, tmp_path / "runtime.npz")
    runtime = Runtime.load(tmp_path / "runtime.npz")
    stream = make_stream(runtime, maxlen=STEPS, padding="post", truncating="pre")
    assert not stream.streaming
    ids = [3, 3, 17, 5]
    row = np.array([ids + [0] * (STEPS - len(ids))])
    np.testing.assert_allclose(stream.update(ids), model.predict(row, verbose=0)[0], atol=1e-5)


def test_spec_forms_and_errors():
    assert to_compact(normalize_spec("bow:tfidf dense:64")) == "bag:tfidf dense:64"
    assert resolve_arch("bag")["layers"] == [{"type": "bag", "mode": "binary"}]
    with pytest.raises(UserError, match="mode must be one of binary, count, tfidf"):
        normalize_spec("bag:freq dense:8")
    with pytest.raises(UserError, match="bag must be the first layer"):
        normalize_spec("emb:8 bag dense:8")
    with pytest.raises(UserError, match="needs a sequence"):
        normalize_spec("bag gru:8")
    with pytest.raises(UserError, match="document frequencies"):
        built("bag:tfidf dense:4", vocabulary=None)


def test_the_preset():
    from rnn_tui.train.presets import preset_config

    config = preset_config("tutorial-imdb-bag-dense")
    assert to_compact(resolve_arch(config.arch)) == "bag dense:16 dense:16"
    assert config.num_words == 10000


@pytest.mark.slow
def test_trains_and_predicts_end_to_end(tmp_path):
    import os
    import subprocess
    import sys

    from tui_models import ENGLISH, ENGLISH_FILLER, _write_corpus

    corpus = _write_corpus(tmp_path / "reviews.csv", ENGLISH, ENGLISH_FILLER, 300, 1)
    env = dict(os.environ, RNN_TUI_HOME=str(tmp_path / "home"))

    def cli(*arguments: str) -> str:
        done = subprocess.run([sys.executable, "-m", "rnn_tui", *arguments], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("train", "--dataset", str(corpus), "--dataset-option", "text_col=text",
        "--dataset-option", "label_col=label", "--arch", "bag:tfidf dense:16", "--epochs", "8",
        "--plain", "--name", "tiny-bag")
    assert cli("predict", "-m", "tiny-bag", "a superb and charming film").startswith("positive")
    assert "IntegerLookup" in cli("summary", "tiny-bag")
