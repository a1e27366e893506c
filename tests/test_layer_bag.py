"""The bag-of-words input (``bag:binary|count|tfidf|freq``), the tutorials' ``texts_to_matrix``
with a Dense model, added as a layer kind through the two kind tables.

The runtime matches Keras to 1e-5 in every mode; the vector is the tutorials' matrix, checked
against keras-preprocessing's ``sequences_to_matrix`` formulas written out again here
(column = id, column 0 and the pads never counted; freq = count / tokens; tfidf = (1 + log
count) x log(1 + texts / (1 + texts with the word))); a preset and the compact form train it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_tui.errors import DataError, UserError
from rnn_tui.infer.export import export_runtime
from rnn_tui.infer.format import FORMAT, FORMAT_VERSION, write_runtime
from rnn_tui.infer.runtime import Runtime
from rnn_tui.infer.streaming import make_stream, streaming_support
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


MODES = ["binary", "count", "tfidf", "freq"]


def legacy_idf(column: int) -> float:
    """The Tokenizer's idf of an id, with the texts containing it counted here from TEXTS
    (not taken from the vocabulary)."""
    word_index = fitted_vocabulary().word_index
    texts_with = {word_index[word]: sum(word in text.split() for text in TEXTS)
                  for word in {word for text in TEXTS for word in text.split()}}
    return math.log(1 + len(TEXTS) / (1 + texts_with.get(column, 0)))


def legacy_matrix(sequences, mode: str, width: int) -> np.ndarray:
    """keras-preprocessing's ``Tokenizer.sequences_to_matrix``, written out again."""
    matrix = np.zeros((len(sequences), width))
    for row, sequence in enumerate(sequences):
        for column in set(sequence):
            count = list(sequence).count(column)
            if mode == "binary":
                matrix[row, column] = 1
            elif mode == "count":
                matrix[row, column] = count
            elif mode == "freq":
                matrix[row, column] = count / len(sequence)
            else:
                matrix[row, column] = (1 + math.log(count)) * legacy_idf(column)
    return matrix


# texts as the model reads them: repeats, an unknown word (the OOV id), an empty text
READ = ["a fine film a fine cast", "fine fine fine fine dull", "an unknown film", "", "end"]


def read_ids(padding: str = "post") -> tuple[list[list[int]], np.ndarray]:
    sequences = fitted_vocabulary().texts_to_sequences(READ)
    ids = np.zeros((len(READ), STEPS), np.int64)
    for row, sequence in enumerate(sequences):
        start = 0 if padding == "post" else STEPS - len(sequence)
        ids[row, start: start + len(sequence)] = sequence
    return sequences, ids


def math_node(name: str, function: str, inputs: list[str], output: str, operands: list,
              weights: dict | None = None) -> dict:
    return {"name": name, "op": "math", "inputs": inputs, "output": output, "mask": False,
            "config": {"function": function, "operands": operands},
            "weights": weights or {}}


def bag_graph(mode: str) -> tuple[dict, dict]:
    """The graph the exporter writes for bag:MODE's vector (IntegerLookup, then Keras ops
    as math nodes), written by hand: the runtime's side, without TensorFlow."""
    graph = {"format": FORMAT, "format_version": FORMAT_VERSION, "dtype": "float32",
             "inputs": [{"name": "tokens", "tensor": "t0", "dtype": "int32",
                         "shape": [None, STEPS]}],
             "nodes": [{"name": "bag", "op": "bag", "inputs": ["t0"], "output": "t1",
                        "mask": False, "config": {"size": VOCABULARY, "mode": "count"}}]}
    first, second = {"input": 0}, {"input": 1}
    weights = {"multiply/operand1": np.array([0.0, *map(legacy_idf, range(1, VOCABULARY))],
                                             np.float32)}
    if mode == "freq":
        graph["nodes"] += [math_node("sum", "sum", ["t1"], "t2", [first]),
                           math_node("maximum", "maximum", ["t2"], "t3", [first, {"value": 1}]),
                           math_node("divide", "divide", ["t1", "t3"], "t4", [first, second])]
    else:
        graph["nodes"] += [
            math_node("minimum", "minimum", ["t1"], "t2", [first, {"value": 1.0}]),
            math_node("maximum", "maximum", ["t1"], "t3", [first, {"value": 1.0}]),
            math_node("log", "log", ["t3"], "t4", [first]),
            math_node("add", "add", ["t2", "t4"], "t5", [first, second]),
            math_node("multiply", "multiply", ["t5"], "t6", [first, {"weight": "operand1"}],
                      {"operand1": "multiply/operand1"})]
    graph["outputs"] = [graph["nodes"][-1]["output"]]
    return graph, weights


@pytest.mark.parametrize("mode", ["tfidf", "freq"])
def test_the_runtime_computes_the_tutorial_modes(tmp_path, mode):
    graph, weights = bag_graph(mode)
    write_runtime(tmp_path / "runtime.npz", graph, weights)
    runtime = Runtime.load(tmp_path / "runtime.npz")
    for padding in ("post", "pre"):
        sequences, ids = read_ids(padding)
        np.testing.assert_allclose(runtime.run(ids), legacy_matrix(sequences, mode, VOCABULARY),
                                   atol=1e-5, rtol=0)
    assert not streaming_support(graph)[0]


def test_keras_own_tf_idf_still_runs(tmp_path):
    """Keras' IntegerLookup tf_idf (count x idf: what bag:tfidf built before it followed the
    tutorials, and what an imported model may use) keeps running as Keras computes it."""
    graph, _ = bag_graph("freq")
    graph["nodes"] = graph["nodes"][:1]
    graph["nodes"][0]["config"]["mode"] = "tf_idf"
    graph["nodes"][0]["weights"] = {"idf": "bag/idf"}
    graph["outputs"] = ["t1"]
    idf = np.linspace(0.5, 2.0, VOCABULARY).astype(np.float32)
    write_runtime(tmp_path / "runtime.npz", graph, {"bag/idf": idf})
    sequences, ids = read_ids()
    got = Runtime.load(tmp_path / "runtime.npz").run(ids)
    np.testing.assert_allclose(got, legacy_matrix(sequences, "count", VOCABULARY) * idf,
                               rtol=1e-6)


@pytest.mark.parametrize("operand, problem", [
    ({"input": 3}, "names nothing it has"),
    ({"weight": "operand0"}, "names nothing it has"),
    ({"value": "1"}, "names nothing it has"),
    ({"input": 0, "value": 1}, "one of input/value/weight"),
])
def test_a_damaged_math_node_is_named(tmp_path, operand, problem):
    graph, weights = bag_graph("freq")
    graph["nodes"][2]["config"]["operands"][1] = operand
    write_runtime(tmp_path / "runtime.npz", graph, weights)
    with pytest.raises(DataError, match=f"node 'maximum'.*{problem}"):
        Runtime.load(tmp_path / "runtime.npz")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_bag_matches_keras(tmp_path, mode, padding):
    model = built(f"bag:{mode} dense:8 dropout:0.2 dense:8", fitted_vocabulary())
    assert_parity(model, padded_ids(30, STEPS, padding), tmp_path)


def bag_vectors(model, ids: np.ndarray, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """The bag's vector (what the head's Dense reads) from Keras and from the runtime."""
    from rnn_tui.backend import keras as get_keras

    head = model.layers[-1]
    keras_vector = get_keras().Model(model.inputs, head.input).predict(ids, verbose=0)
    export_runtime(model, tmp_path / "runtime.npz")
    runtime = Runtime.load(tmp_path / "runtime.npz")
    values = runtime.evaluate_values(ids)
    return keras_vector, values[runtime.nodes[-1].inputs[0]].materialize()


def test_the_vector_is_texts_to_matrix(tmp_path):
    """Keras, the runtime, and the model saved and loaded in safe mode give the tutorials'
    matrix in every mode, pre- or post-padded; pads and column 0 never count."""
    from rnn_tui.registry.keras_io import load_keras_file

    vocabulary = fitted_vocabulary()
    for mode in MODES:
        model = built(f"bag:{mode}", vocabulary)
        model.save(tmp_path / "model.keras")
        loaded = load_keras_file(tmp_path / "model.keras", trust=False)
        for padding in ("post", "pre"):
            sequences, ids = read_ids(padding)
            expected = legacy_matrix(sequences, mode, VOCABULARY)
            for source in (model, loaded):
                from_keras, from_runtime = bag_vectors(source, ids, tmp_path)
                np.testing.assert_allclose(from_keras, expected, atol=1e-5, rtol=0,
                                           err_msg=f"{mode} {padding} Keras")
                np.testing.assert_allclose(from_runtime, expected, atol=1e-5, rtol=0,
                                           err_msg=f"{mode} {padding} runtime")
        assert not from_runtime[:, 0].any() and not from_runtime[3].any()


@pytest.mark.slow
def test_other_operations_are_refused(tmp_path):
    """Keras ops the runtime does not compute are named, never exported half-right."""
    from rnn_tui.backend import keras as get_keras
    from rnn_tui.infer.layers import UnsupportedModelError

    keras = get_keras()
    inputs = keras.Input((STEPS,), dtype="int32")
    counts = keras.layers.IntegerLookup(vocabulary=list(range(1, VOCABULARY)), mask_token=0,
                                        output_mode="count")(inputs)
    outputs = keras.layers.Dense(1)(keras.ops.exp(counts))
    with pytest.raises(UnsupportedModelError, match=r"operation 'exp' \(Exp\) is not supp"):
        export_runtime(keras.Model(inputs, outputs), tmp_path / "runtime.npz")


@pytest.mark.parametrize("mode", ["count", "tfidf"])
def test_streams_by_recomputing(tmp_path, mode):
    model = built(f"bag:{mode} dense:4", fitted_vocabulary())
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
    assert to_compact(normalize_spec("bag:freq dense:8")) == "bag:freq dense:8"
    with pytest.raises(UserError, match="mode must be one of binary, count, tfidf, freq"):
        normalize_spec("bag:tf dense:8")
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
