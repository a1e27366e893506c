"""Predictor and StreamingSession: texts -> the same ids as training -> the runtime.

Most tests use runtime graphs written directly (fast, no TensorFlow); the end-to-end cases
compare with Keras' own ``model.predict`` on ``Vocabulary.encode`` of the same texts.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from infer_helpers import (
    ENGLISH,
    KOREAN,
    VOCABULARY,
    make_vocabulary,
    pooled_lstm,
    publish_sentiment_pair,
    publish_version,
    text_input,
)
from rnn_tui.errors import DataError, NotFoundError
from rnn_tui.infer import Predictor
from rnn_tui.infer.predictor import InputSpec

TEXTS = ENGLISH + KOREAN + ["", "   ", "unknown words only", "a a a a a a a a a a a a a a a a",
                            "great\x00film", "🎬 great 영화 film ✨"]


def reference(predictor: Predictor, texts):
    """What training-time preprocessing + the runtime give, row by row, no shortcuts."""
    spec = predictor.input
    ids = predictor.vocabulary.encode(texts, maxlen=spec.maxlen, padding=spec.padding,
                                      truncating=spec.truncating)
    return predictor.probabilities(np.concatenate([predictor.runtime.run(row[None])
                                                   for row in ids]))


@pytest.fixture
def registry(tmp_path):
    return tmp_path / "registry"


@pytest.fixture
def sentiment(registry):
    return publish_sentiment_pair(registry)


@pytest.mark.parametrize("which", ["imdb", "nsmc"])
def test_predict_matches_training_preprocessing(sentiment, which):
    predictor = Predictor.load(sentiment[which])
    assert predictor.labels == ["negative", "positive"]
    got = predictor.predict(TEXTS)
    assert got.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(got, reference(predictor, TEXTS), atol=1e-6, equal_nan=True)
    finite = got[~np.isnan(got).any(axis=1)]
    np.testing.assert_allclose(finite.sum(axis=1), 1, atol=1e-6)


def test_load_by_reference_folder_and_version(sentiment, registry, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(registry.parent))
    (registry.parent / "models").symlink_to(registry)
    by_name = Predictor.load("imdb-sentiment")
    by_folder = Predictor.load(sentiment["imdb"].path)
    assert by_name.name == by_folder.name == "imdb-sentiment" and by_name.version == 1
    np.testing.assert_array_equal(by_name.predict(ENGLISH), by_folder.predict(ENGLISH))
    with pytest.raises(NotFoundError, match="no-such-model"):
        Predictor.load("no-such-model")


def test_missing_runtime_file_names_the_problem(sentiment):
    path = sentiment["imdb"].path
    (path / "runtime.npz").unlink()
    with pytest.raises(DataError, match="no runtime.npz"):
        Predictor.load(path)


def test_batches_are_bucketed_and_bounded(sentiment):
    predictor = Predictor.load(sentiment["imdb"])
    rng = np.random.default_rng(0)
    words = " ".join(ENGLISH).split()
    texts = [" ".join(rng.choice(words, rng.integers(0, 25))) for _ in range(300)]
    expected = reference(predictor, texts)
    np.testing.assert_allclose(predictor.predict(texts, batch_size=7), expected, atol=1e-6,
                               equal_nan=True)
    # chunks come out in order, and a generator is consumed lazily
    consumed = []

    def lazily():
        for text in texts:
            consumed.append(text)
            yield text

    chunks = predictor.predict_chunks(lazily(), chunk_size=100)
    first = next(chunks)
    assert len(first) == 100 and len(consumed) == 100
    rest = np.concatenate([first, *chunks])
    np.testing.assert_allclose(rest, expected, atol=1e-6, equal_nan=True)


def test_trimmed_batches_equal_full_length(sentiment):
    predictor = Predictor.load(sentiment["imdb"])  # masked, post padding: trims
    assert predictor._trim
    ids = predictor.texts_ids(TEXTS)
    full = predictor.probabilities(predictor.runtime.run(predictor.pad(ids)))
    np.testing.assert_allclose(predictor.predict_ids(ids), full, atol=1e-6, equal_nan=True)
    assert not Predictor.load(sentiment["nsmc"])._trim  # unmasked: pads matter


@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("level", ["word", "char"])
def test_long_texts_are_cut_without_tokenizing_everything(truncating, level):
    vocabulary = make_vocabulary(level=level, oov_token=None if level == "word" else "<OOV>",
                                 num_words=None)
    runtime = pooled_lstm(maxlen=10, vocabulary=vocabulary.size)
    card = {"task": "binary", "input": text_input(10, "post", truncating)}
    predictor = Predictor(runtime, card, vocabulary)
    rng = np.random.default_rng(1)
    pieces = ENGLISH + KOREAN + ["<br />", "\x00", "🎬", "zzz", "!!", "\n"]
    text = " ".join(rng.choice(pieces, 60_000))  # about 1 MB
    assert len(text.encode()) > 1_000_000
    tokens = vocabulary.tokenize(text)
    whole = vocabulary.tokens_to_ids(tokens)
    expected = whole[-10:] if truncating == "pre" else whole[:10]
    assert predictor.text_ids(text) == expected


def test_top_k_and_labels(sentiment):
    predictor = Predictor.load(sentiment["imdb"])
    rows = predictor.top_k(np.array([[0.2, 0.8], [0.7, 0.3], [np.nan, np.nan]]), 1)
    assert rows[0] == [("positive", pytest.approx(0.8))]
    assert rows[1] == [("negative", pytest.approx(0.7))]
    assert len(rows[2]) == 1
    assert [label for label, _ in predictor.top_k(np.array([0.4, 0.6]))[0]] == [
        "positive", "negative"]


def test_multiclass_labels_and_regression(tmp_path):
    labels = [f"topic{i}" for i in range(5)]
    version = publish_version(
        tmp_path, "topics", lambda path: pooled_lstm(10, True, units=5, head="softmax",
                                                     write_to=path),
        vocabulary=make_vocabulary(), task="multiclass", labels=labels)
    predictor = Predictor.load(version)
    assert predictor.labels == labels and predictor.num_classes == 5
    probabilities = predictor.predict(["great film", "dull"])
    assert probabilities.shape == (2, 5)
    assert [label for label, _ in predictor.top_k(probabilities, 3)[0]] == [
        labels[i] for i in np.argsort(-probabilities[0])[:3]]


def test_session_streams_and_matches_predict(sentiment):
    predictor = Predictor.load(sentiment["imdb"])
    session = predictor.session()
    assert session.streaming
    typed = "i enjoyed every minute but the worst"  # 7 words: maxlen is 10
    for end in range(len(typed) + 1):
        text = typed[:end]
        np.testing.assert_allclose(session.update(text), predictor.predict([text])[0],
                                   atol=2e-6, equal_nan=True)
    session.update(typed + " great")
    assert session.steps_computed == 1  # one new word, one step
    session.update(typed + " grea")  # backspace: the last word changed
    assert session.steps_computed == 1


def test_session_for_a_recomputing_model(tmp_path):
    from infer_helpers import bidirectional

    version = publish_version(tmp_path, "bi", lambda path: bidirectional(10, write_to=path),
                              vocabulary=make_vocabulary())
    predictor = Predictor.load(version)
    assert not predictor.streamable and "Bidirectional" in predictor.streaming_reason
    session = predictor.session()
    assert not session.streaming
    for text in ["great", "great film", "great film but dull"]:
        np.testing.assert_allclose(session.update(text), predictor.predict([text])[0], atol=1e-6)


def test_trace_is_each_prefix(sentiment):
    for which in ("imdb", "nsmc"):
        predictor = Predictor.load(sentiment[which])
        text = "재미있을 줄 알았는데 완전 실망했다 너무 졸리고 돈이 아까웠다 great"
        trace = predictor.trace(text)
        tokens = predictor.tokens(text)
        assert [token for token, _ in trace] == tokens
        for index, (_, probabilities) in enumerate(trace):
            prefix = " ".join(tokens[: index + 1])
            np.testing.assert_allclose(probabilities, predictor.predict([prefix])[0],
                                       atol=2e-6)
    assert predictor.trace("") == []


def test_trace_with_dropped_tokens_repeats_the_last_prediction():
    vocabulary = make_vocabulary(oov_token=None)  # unknown words are dropped
    predictor = Predictor(pooled_lstm(maxlen=10), {"task": "binary",
                                                   "input": text_input(10, "post")}, vocabulary)
    trace = predictor.trace("zzz great yyy film")
    assert [token for token, _ in trace] == ["zzz", "great", "yyy", "film"]
    empty = predictor.predict([""])[0]
    np.testing.assert_allclose(trace[0][1], empty, equal_nan=True)
    np.testing.assert_allclose(trace[2][1], trace[1][1])
    np.testing.assert_allclose(trace[3][1], predictor.predict(["great film"])[0], atol=2e-6)


def test_sessions_in_threads(sentiment):
    predictor = Predictor.load(sentiment["imdb"])
    expected = {text: predictor.predict([text])[0] for text in ENGLISH}
    errors = []

    def worker(seed):
        session = predictor.session()
        rng = np.random.default_rng(seed)
        for _ in range(100):
            text = ENGLISH[rng.integers(len(ENGLISH))]
            if not np.allclose(session.update(text), expected[text], atol=2e-6):
                errors.append(text)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_input_spec_defaults_and_checks():
    assert InputSpec.from_card({}).padding == "pre"
    with pytest.raises(ValueError):
        InputSpec.from_card({"input": {"kind": "text", "padding": "middle"}})


def test_sequence_model(tmp_path):
    from infer_helpers import GraphBuilder

    builder = GraphBuilder(maxlen=20, seed=4)
    x = builder.rnn("t0", 2, "gru", 6, sequences=False)
    output = builder.dense(x, 6, 1)
    from rnn_tui.infer.format import write_runtime
    from rnn_tui.infer.runtime import Runtime

    graph = builder.graph(output, input_dtype="float32", channels=2)
    version = publish_version(tmp_path, "adding",
                              lambda path: write_runtime(path, graph, builder.weights),
                              task="regression", labels=(),
                              model_input={"kind": "sequence", "timesteps": 20, "channels": 2})
    predictor = Predictor.load(version)
    features = np.random.default_rng(0).uniform(size=(50, 20, 2)).astype(np.float32)
    got = predictor.predict_sequences(features)
    np.testing.assert_allclose(got, Runtime(graph, builder.weights).run(features), atol=1e-7)
    assert predictor.labels == ["value"] and got.shape == (50, 1)


# ------------------------------------------------------------------ against Keras itself


@pytest.fixture(scope="module")
def keras():
    from rnn_tui.backend import keras as get_keras

    return get_keras()


@pytest.mark.parametrize(("padding", "mask_zero", "truncating"),
                         [("post", True, "pre"), ("pre", False, "pre"), ("post", False, "post")])
def test_end_to_end_against_keras(keras, tmp_path, padding, mask_zero, truncating):
    from rnn_tui.infer.export import export_runtime

    vocabulary = make_vocabulary()
    layers = keras.layers
    inputs = layers.Input((12,), dtype="int32")
    x = layers.Embedding(VOCABULARY, 8, mask_zero=mask_zero)(inputs)
    x = layers.LSTM(6, return_sequences=True)(x)
    x = layers.Concatenate()([layers.GlobalMaxPooling1D()(x),
                              layers.GlobalAveragePooling1D()(x)])
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(0, 0.6, variable.shape).astype("float32"))
    version = publish_version(tmp_path, "e2e", lambda path: export_runtime(model, path),
                              vocabulary=vocabulary,
                              model_input=text_input(12, padding, truncating))
    predictor = Predictor.load(version)
    long_text = " ".join(ENGLISH * 3000)  # ~400 KB: cut before tokenizing
    texts = TEXTS + [long_text, " ".join(ENGLISH)]
    ids = vocabulary.encode(texts, maxlen=12, padding=padding, truncating=truncating)
    expected = model.predict(ids, verbose=0)[:, 0]
    got = predictor.predict(texts)[:, 1]
    np.testing.assert_allclose(got, expected, atol=1e-5, equal_nan=True)
    session = predictor.session()
    for text, value in zip(texts, expected):
        np.testing.assert_allclose(session.update(text)[1], value, atol=1e-5, equal_nan=True)


def test_default_model_by_script():
    from rnn_tui.infer.defaults import default_model, how_to_train, is_korean

    assert default_model("재미있을 줄 알았는데") == "nsmc-sentiment"
    assert default_model("great film, 정말") == "nsmc-sentiment"  # any Hangul
    assert default_model("ㅋㅋㅋ") == "nsmc-sentiment"  # jamo
    assert default_model("a fine film 🎬") == "imdb-sentiment"
    assert default_model("映画はよかった") == "imdb-sentiment"  # Japanese is not Korean
    assert not is_korean("")
    assert how_to_train("imdb-sentiment").startswith("rnn-tui train")
    assert "nsmc" in how_to_train("nsmc-sentiment")


def test_korean_morphemes(tmp_path):
    """A morpheme vocabulary (Kiwi): batch ids equal one-by-one ids; the trace is per
    morpheme, as the NSMC tutorial's trace is per word."""
    vocabulary = make_vocabulary(KOREAN, level="morpheme")
    version = publish_version(
        tmp_path, "ko", lambda path: pooled_lstm(10, True, write_to=path,
                                                 vocabulary=vocabulary.size),
        vocabulary=vocabulary, language="ko")
    predictor = Predictor.load(version)
    texts = KOREAN + ["재미있을 줄 알았는데 너무 졸리고 돈이 아까웠다"]
    assert predictor.texts_ids(texts) == [predictor.text_ids(text) for text in texts]
    np.testing.assert_allclose(predictor.predict(texts), reference(predictor, texts),
                               atol=1e-6, equal_nan=True)
    trace = predictor.trace("재미있을 줄 알았는데")
    assert [token for token, _ in trace] == predictor.tokens("재미있을 줄 알았는데")
    assert len(trace) > 3  # morphemes, not words
