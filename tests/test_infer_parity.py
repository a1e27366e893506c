"""The NumPy runtime against Keras itself: one tiny random model per architecture.

Each case builds a Keras model, gives it random weights large enough to make every
nonlinearity matter, exports it, and compares the runtime's outputs with
``model.predict`` on random padded ids (empty rows, full rows, both padding sides).
The bar is the issue's: 1e-5 in probability.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.infer import kernels
from rnn_tui.infer.export import UnsupportedModelError, export_runtime, model_graph
from rnn_tui.infer.format import read_runtime
from rnn_tui.infer.runtime import Runtime

# Keras warns that GlobalMaxPooling1D drops a mask: that is the behaviour we reproduce.
pytestmark = pytest.mark.filterwarnings("ignore:Layer .* does not support masking")

TOLERANCE = 1e-5
STEPS = 12
VOCABULARY = 40


@pytest.fixture(scope="module")
def keras():
    from rnn_tui.backend import keras as get_keras

    return get_keras()


def randomize(model, seed: int = 0, scale: float = 0.6) -> None:
    """Weights of N(0, scale): far from the near-zero start, so gates saturate sometimes."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        if "one_hot" in variable.path:  # the zoo's frozen identity matrix stays one-hot
            continue
        variable.assign(rng.normal(0, scale, variable.shape).astype("float32"))


def padded_ids(rows: int, steps: int, padding: str, seed: int = 1,
               vocabulary: int = VOCABULARY) -> np.ndarray:
    """Random texts of every length from 0 to ``steps``, padded on one side."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((rows, steps), np.int32)
    for row in range(rows):
        length = row % (steps + 1) if row < steps + 1 else int(rng.integers(0, steps + 1))
        tokens = rng.integers(1, vocabulary, length)
        if padding == "post":
            ids[row, :length] = tokens
        else:
            ids[row, steps - length:] = tokens
    return ids


def assert_parity(model, inputs: np.ndarray, tmp_path, **export_options) -> Runtime:
    path = tmp_path / "runtime.npz"
    export_runtime(model, path, **export_options)
    runtime = Runtime.load(path)
    expected = model.predict(inputs, verbose=0)
    got = runtime.run(inputs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=0, equal_nan=True)
    # every row alone (no batch sorting, no shared pad record across rows) agrees too
    for row in (0, len(inputs) // 2, len(inputs) - 1):
        np.testing.assert_allclose(runtime.run(inputs[row: row + 1]), expected[row: row + 1],
                                   atol=TOLERANCE, rtol=0, equal_nan=True)
    # and as a live session recomputes: row after row through one memo (states reused up
    # to the first change, Conv1D windows only where the input changed), with the
    # compiled step loops
    assert kernels.warm_up(wait=True) is not None, kernels.status()
    memo: dict = {}
    for row in range(len(inputs)):
        got_row = runtime.evaluate(runtime._check_inputs(inputs[row: row + 1]), memo=memo)
        np.testing.assert_allclose(got_row, expected[row: row + 1], atol=TOLERANCE, rtol=0,
                                   equal_nan=True, err_msg=f"row {row} in a live session")
    return runtime


def text_model(keras, body, *, mask_zero: bool, head: str = "sigmoid", units: int = 1,
               embedding_dim: int = 8, steps: int | None = STEPS):
    layers = keras.layers
    inputs = layers.Input((steps,), dtype="int32")
    tensor = layers.Embedding(VOCABULARY, embedding_dim, mask_zero=mask_zero)(inputs)
    tensor = body(layers, tensor)
    outputs = layers.Dense(units, activation=head)(tensor)
    return keras.Model(inputs, outputs)


PADDINGS = ["post", "pre"]
MASKS = [True, False]
CELLS = ["SimpleRNN", "LSTM", "GRU"]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("padding", PADDINGS)
def test_single_recurrent_layer(keras, tmp_path, cell, mask_zero, padding):
    model = text_model(keras, lambda L, x: getattr(L, cell)(7)(x), mask_zero=mask_zero)
    randomize(model)
    assert_parity(model, padded_ids(40, STEPS, padding), tmp_path)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("padding", PADDINGS)
def test_stacked_with_max_and_mean_pooling(keras, tmp_path, cell, mask_zero, padding):
    def body(L, x):
        rnn = getattr(L, cell)
        x = L.SpatialDropout1D(0.3)(x)
        x = rnn(6, return_sequences=True)(x)
        x = L.Dropout(0.5)(x)
        x = rnn(5, return_sequences=True)(x)
        return L.Concatenate()([L.GlobalMaxPooling1D()(x), L.GlobalAveragePooling1D()(x)])

    model = text_model(keras, body, mask_zero=mask_zero)
    randomize(model, seed=3)
    assert_parity(model, padded_ids(40, STEPS, padding), tmp_path)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("sequences", [False, True])
def test_bidirectional(keras, tmp_path, cell, mask_zero, padding, sequences):
    def body(L, x):
        x = L.Bidirectional(getattr(L, cell)(5, return_sequences=sequences))(x)
        if sequences:
            x = L.Concatenate()([L.GlobalMaxPooling1D()(x), L.GlobalAveragePooling1D()(x)])
        return x

    model = text_model(keras, body, mask_zero=mask_zero)
    randomize(model, seed=4)
    assert_parity(model, padded_ids(40, STEPS, padding), tmp_path)


@pytest.mark.parametrize("merge_mode", ["sum", "ave", "mul"])
def test_bidirectional_merge_modes(keras, tmp_path, merge_mode):
    model = text_model(
        keras, lambda L, x: L.Bidirectional(L.GRU(4), merge_mode=merge_mode)(x), mask_zero=True)
    randomize(model, seed=5)
    assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)


@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("padding", PADDINGS)
def test_go_backwards_layer(keras, tmp_path, mask_zero, padding):
    def body(L, x):
        x = L.LSTM(5, return_sequences=True, go_backwards=True)(x)
        return L.GlobalAveragePooling1D()(x)

    model = text_model(keras, body, mask_zero=mask_zero)
    randomize(model, seed=6)
    assert_parity(model, padded_ids(30, STEPS, padding), tmp_path)


def test_gru_reset_before(keras, tmp_path):
    model = text_model(keras, lambda L, x: L.GRU(6, reset_after=False)(x), mask_zero=True)
    randomize(model, seed=7)
    assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)


def test_other_activations_and_no_bias(keras, tmp_path):
    def body(L, x):
        x = L.LSTM(6, activation="relu", recurrent_activation="hard_sigmoid",
                   return_sequences=True)(x)
        x = L.GRU(5, activation="softsign", recurrent_activation="sigmoid",
                  use_bias=False, return_sequences=True)(x)
        x = L.SimpleRNN(4, activation="relu")(x)
        x = L.Dense(6, activation="elu")(x)
        return L.Activation("selu")(x)

    model = text_model(keras, body, mask_zero=False)
    randomize(model, seed=8, scale=0.4)
    assert_parity(model, padded_ids(30, STEPS, "pre"), tmp_path)


@pytest.mark.parametrize("padding_mode", ["valid", "same", "causal"])
@pytest.mark.parametrize("strides", [1, 2])
def test_conv1d_pooling_lstm(keras, tmp_path, padding_mode, strides):
    def body(L, x):
        x = L.Dropout(0.5)(x)
        x = L.Conv1D(6, 3, strides=strides, padding=padding_mode, activation="relu")(x)
        x = L.MaxPooling1D(2, padding="same" if strides == 2 else "valid")(x)
        return L.LSTM(5)(x)

    model = text_model(keras, body, mask_zero=False, steps=13)
    randomize(model, seed=9)
    assert_parity(model, padded_ids(30, 13, "pre"), tmp_path)


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_conv1d_global_pooling(keras, tmp_path, activation):
    def body(L, x):
        x = L.Conv1D(6, 4, activation=activation, use_bias=False)(x)
        x = L.MaxPooling1D(3, strides=2)(x)
        x = L.Conv1D(4, 2, dilation_rate=1, padding="same")(x)
        return L.Concatenate()([L.GlobalMaxPooling1D()(x), L.GlobalAveragePooling1D()(x)])

    model = text_model(keras, body, mask_zero=False)
    randomize(model, seed=10)
    assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)


def test_flatten_dense(keras, tmp_path):
    def body(L, x):
        x = L.Flatten()(x)
        return L.Dense(8, activation="relu")(x)

    model = text_model(keras, body, mask_zero=False)
    randomize(model, seed=11, scale=0.3)
    assert_parity(model, padded_ids(30, STEPS, "pre"), tmp_path)


def test_dense_on_sequence_and_masked_mean(keras, tmp_path):
    def body(L, x):
        projected = L.Dense(6, activation="tanh")(x)
        x = L.Concatenate()([x, projected])  # both masked: the mask is kept
        x = L.Activation("relu")(x)
        x = L.GRU(5, return_sequences=True)(x)
        return L.GlobalAveragePooling1D()(x)

    model = text_model(keras, body, mask_zero=True)
    randomize(model, seed=12)
    assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)


def test_multiclass_softmax_head(keras, tmp_path):
    model = text_model(keras, lambda L, x: L.LSTM(8)(x), mask_zero=True, head="softmax",
                       units=46)
    randomize(model, seed=13)
    runtime = assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)
    np.testing.assert_allclose(runtime.run(padded_ids(5, STEPS, "post")).sum(axis=1), 1,
                               atol=1e-5)


def test_one_hot_simple_rnn_like_the_zoo(keras, tmp_path):
    """The zoo's one-hot input: a frozen identity Embedding (id 0 is a real one-hot row)."""
    layers = keras.layers
    inputs = layers.Input((STEPS,), dtype="int32")
    x = layers.Embedding(VOCABULARY, VOCABULARY, embeddings_initializer="identity",
                         trainable=False, name="one_hot")(inputs)
    x = layers.SimpleRNN(8)(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    randomize(model, seed=14)
    assert_parity(model, padded_ids(30, STEPS, "pre"), tmp_path)


@pytest.mark.parametrize("cell", CELLS)
def test_numeric_sequences_regression(keras, tmp_path, cell):
    layers = keras.layers
    inputs = layers.Input((20, 2))
    x = getattr(layers, cell)(6, return_sequences=True)(inputs)
    x = layers.Bidirectional(getattr(layers, cell)(4))(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    randomize(model, seed=15, scale=0.5)
    features = np.random.default_rng(2).uniform(-1, 1, (25, 20, 2)).astype(np.float32)
    assert_parity(model, features, tmp_path)


def test_numeric_sequences_conv(keras, tmp_path):
    layers = keras.layers
    inputs = layers.Input((16, 3))
    x = layers.Conv1D(4, 3, padding="same")(inputs)
    x = layers.GRU(5)(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    randomize(model, seed=16)
    features = np.random.default_rng(3).normal(0, 1, (20, 16, 3)).astype(np.float32)
    assert_parity(model, features, tmp_path)


def test_sequential_model_and_variable_length_input(keras, tmp_path):
    layers = keras.layers
    model = keras.Sequential([
        layers.Input((None,), dtype="int32"),
        layers.Embedding(VOCABULARY, 6, mask_zero=True),
        layers.LSTM(5, return_sequences=True),
        layers.GRU(4),
        layers.Dense(3, activation="softmax"),
    ])
    randomize(model, seed=17)
    runtime = assert_parity(model, padded_ids(20, 9, "post"), tmp_path)
    assert runtime.sequence_length is None
    np.testing.assert_allclose(runtime.run(padded_ids(6, 15, "post")),
                               model.predict(padded_ids(6, 15, "post"), verbose=0),
                               atol=TOLERANCE)


def test_unsorted_and_gappy_ids(keras, tmp_path):
    """Zeros inside a text (not padding) and mixed padding sides still match Keras."""
    model = text_model(keras, lambda L, x: L.Bidirectional(L.LSTM(4, return_sequences=True))(x),
                       mask_zero=True, steps=STEPS)
    # a Dense on a sequence gives a sequence; pool it for a single output per row
    layers = keras.layers
    pooled = layers.GlobalMaxPooling1D()(model.outputs[0])
    model = keras.Model(model.inputs, pooled)
    randomize(model, seed=18)
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 5, (30, STEPS)).astype(np.int32)  # many zeros anywhere
    assert_parity(model, ids, tmp_path)


def test_float16_storage_is_close(keras, tmp_path):
    model = text_model(keras, lambda L, x: L.LSTM(8)(x), mask_zero=True)
    randomize(model, seed=19, scale=0.3)
    path = tmp_path / "runtime.npz"
    info = export_runtime(model, path, float16=True)
    assert info["dtype"] == "float16"
    with np.load(path, allow_pickle=False) as archive:
        assert all(archive[key].dtype == np.float16 for key in archive.files
                   if key != "graph.json")
    ids = padded_ids(20, STEPS, "post")
    got = Runtime.load(path).run(ids)
    np.testing.assert_allclose(got, model.predict(ids, verbose=0), atol=5e-3, equal_nan=True)


def test_a_halved_keras_file_agrees_with_the_float16_runtime(keras, tmp_path):
    from rnn_tui.registry.keras_io import halve_keras_weights

    model = text_model(keras, lambda L, x: L.GRU(8)(x), mask_zero=True)
    randomize(model, seed=23, scale=0.3)
    model.save(tmp_path / "model.keras")
    before = (tmp_path / "model.keras").stat().st_size
    after = halve_keras_weights(tmp_path / "model.keras")
    assert after < before
    export_runtime(model, tmp_path / "runtime.npz", float16=True)
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert all(weight.dtype == "float32" for weight in reloaded.weights)
    ids = padded_ids(20, STEPS, "post")
    got = Runtime.load(tmp_path / "runtime.npz").run(ids)
    np.testing.assert_allclose(got, reloaded.predict(ids, verbose=0), atol=1e-6)
    # and the halving is real: the float32 model differs from its rounded copy
    assert np.abs(model.predict(ids, verbose=0) - got).max() > 0


def test_export_card_section_and_plain_npz(keras, tmp_path):
    model = text_model(keras, lambda L, x: L.GRU(4)(x), mask_zero=True)
    info = export_runtime(model, tmp_path / "runtime.npz")
    assert info["engine"] == "numpy" and info["format_version"] == 1
    assert info["streamable"] is True and info["size_bytes"] > 0
    graph, weights = read_runtime(tmp_path / "runtime.npz")  # allow_pickle=False inside
    assert [node["op"] for node in graph["nodes"]] == ["embedding", "rnn", "dense"]
    bidirectional = text_model(keras, lambda L, x: L.Bidirectional(L.GRU(4))(x),
                               mask_zero=True)
    info = export_runtime(bidirectional, tmp_path / "bi.npz")
    assert info["streamable"] is False and "backwards" in info["streaming"]


def test_unsupported_layer_is_named(keras):
    layers = keras.layers
    inputs = layers.Input((STEPS,), dtype="int32")
    x = layers.Embedding(VOCABULARY, 4)(inputs)
    x = layers.BatchNormalization(name="my_norm")(x)
    model = keras.Model(inputs, layers.Dense(1)(layers.LSTM(3)(x)))
    with pytest.raises(UnsupportedModelError, match="my_norm.*BatchNormalization"):
        model_graph(model)


def test_damaged_runtime_file_is_a_data_error(tmp_path):
    from rnn_tui.errors import DataError

    path = tmp_path / "runtime.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="runtime.npz"):
        Runtime.load(path)


# ------------------------------------------------------------------ the zoo itself


def zoo_cases():
    try:
        from rnn_tui.nets import NAMED_ARCHS
    except ImportError:  # the zoo is not in this checkout
        return []
    return [(name, padding) for name in NAMED_ARCHS for padding in PADDINGS]


@pytest.mark.parametrize(("arch", "padding"), zoo_cases())
def test_every_zoo_architecture(keras, tmp_path, arch, padding):
    from rnn_tui.nets import ModelInput, build_model, named_spec

    spec = named_spec(arch, units=6, embedding_dim=8, pool="max+average"
                      if arch in ("lstm", "gru", "bilstm") else None)
    model = build_model(spec, ModelInput.tokens(maxlen=STEPS, vocab_size=VOCABULARY),
                        task="binary", padding=padding)
    randomize(model, seed=20)
    assert_parity(model, padded_ids(30, STEPS, padding), tmp_path)


def test_mixed_precision_model_is_exported_and_noted(keras, tmp_path):
    layers = keras.layers
    inputs = layers.Input((STEPS,), dtype="int32")
    x = layers.Embedding(VOCABULARY, 8, mask_zero=True, dtype="mixed_float16")(inputs)
    x = layers.LSTM(6, dtype="mixed_float16")(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid", dtype="float32")(x))
    randomize(model, seed=21, scale=0.3)
    info = export_runtime(model, tmp_path / "runtime.npz")
    assert info["keras_compute_dtypes"] == ["float16"] and "1e-3" in info["note"]
    ids = padded_ids(20, STEPS, "post")
    np.testing.assert_allclose(Runtime.load(tmp_path / "runtime.npz").run(ids),
                               model.predict(ids, verbose=0), atol=5e-3, equal_nan=True)


# ------------------------------------------------------------------ several streams, last state
NGRAMS = 50  # the bigram vocabulary of these models


def stream_ids(rows: int, steps: int, padding: str, seed: int = 1) -> np.ndarray:
    """(rows, steps, 2): token ids and bigram ids with pads at the same positions."""
    tokens = padded_ids(rows, steps, padding, seed)
    bigrams = np.random.default_rng(seed + 100).integers(1, NGRAMS, tokens.shape)
    return np.stack([tokens, np.where(tokens != 0, bigrams, 0)], axis=-1).astype(np.int32)


def as_feed(ids: np.ndarray) -> dict[str, np.ndarray]:
    return {"tokens": ids[..., 0], "ngrams2": ids[..., 1]}


def assert_stream_parity(model, ids, tmp_path):
    path = tmp_path / "runtime.npz"
    export_runtime(model, path)
    runtime = Runtime.load(path)
    assert runtime.stream_names == ["tokens", "ngrams2"]
    expected = model.predict(as_feed(ids), verbose=0)
    np.testing.assert_allclose(runtime.run(ids), expected, atol=TOLERANCE, rtol=0,
                               equal_nan=True)
    for row in (0, len(ids) // 2, len(ids) - 1):
        np.testing.assert_allclose(runtime.run(ids[row: row + 1]), expected[row: row + 1],
                                   atol=TOLERANCE, rtol=0, equal_nan=True)
    return runtime


def research_like(keras, cell: str, mask_zero: bool, steps: int | None = STEPS):
    """Tokens + bigrams, embeddings concatenated, RNN(seq + state), [max, mean, last]."""
    layers = keras.layers
    tokens = layers.Input((steps,), dtype="int32", name="tokens")
    bigrams = layers.Input((steps,), dtype="int32", name="ngrams2")
    x = layers.Concatenate()([layers.Embedding(VOCABULARY, 8, mask_zero=mask_zero)(tokens),
                              layers.Embedding(NGRAMS, 4, mask_zero=mask_zero)(bigrams)])
    x = layers.SpatialDropout1D(0.5)(x)
    sequence, state, *_ = getattr(layers, cell)(6, return_sequences=True, return_state=True)(x)
    x = layers.Concatenate()([layers.GlobalMaxPooling1D()(sequence),
                              layers.GlobalAveragePooling1D()(sequence), state])
    x = layers.Dropout(0.5)(x)
    return keras.Model([tokens, bigrams], layers.Dense(1, activation="sigmoid")(x))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("padding", PADDINGS)
def test_ngram_streams_and_the_last_state(keras, tmp_path, cell, mask_zero, padding):
    model = research_like(keras, cell, mask_zero)
    randomize(model, seed=30)
    assert_stream_parity(model, stream_ids(40, STEPS, padding), tmp_path)


@pytest.mark.parametrize("cell", CELLS)
def test_post_padding_with_a_mask_gives_the_state_at_the_last_real_token(keras, tmp_path,
                                                                         cell):
    """Keras' returned state and the runtime's are the output at the last real token."""
    model = research_like(keras, cell, mask_zero=True, steps=None)
    randomize(model, seed=31)
    runtime = assert_stream_parity(model, stream_ids(20, STEPS, "post"), tmp_path)
    rnn = next(layer for layer in model.layers if isinstance(layer, keras.layers.RNN))
    probe = keras.Model(model.inputs, rnn.output[:2])
    ids = stream_ids(20, STEPS, "post", seed=5)
    sequence, state = probe.predict(as_feed(ids), verbose=0)
    lengths = (ids[..., 0] != 0).sum(axis=1)
    texts = lengths > 0
    last = sequence[np.arange(len(ids)), np.maximum(lengths - 1, 0)]
    np.testing.assert_allclose(state[texts], last[texts], atol=1e-6)
    assert np.all(state[~texts] == 0)  # no text: the initial state
    node = next(node for node in runtime.nodes if node.op == "rnn")
    values = runtime.evaluate_values(ids.astype(np.int64))
    np.testing.assert_allclose(values[node.states[0]].materialize(), state, atol=TOLERANCE)
    # the text alone, unpadded, ends in the same state
    row = int(np.argmax(lengths))
    alone = probe.predict(as_feed(ids[row: row + 1, : lengths[row]]), verbose=0)[1]
    np.testing.assert_allclose(alone, state[row: row + 1], atol=1e-6)


def test_lstm_state_c_and_a_last_state_without_sequences(keras, tmp_path):
    layers = keras.layers
    inputs = layers.Input((STEPS,), dtype="int32")
    x = layers.Embedding(VOCABULARY, 8, mask_zero=True)(inputs)
    output, h, c = layers.LSTM(5, return_state=True)(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(
        layers.Concatenate()([output, c])))
    randomize(model, seed=32)
    runtime = assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)
    assert [len(node.states) for node in runtime.nodes if node.op == "rnn"] == [2]


@pytest.mark.parametrize("padding", PADDINGS)
def test_the_zoo_research_model(keras, tmp_path, padding):
    from rnn_tui.nets import ModelInput, build_model, normalize_spec

    spec = normalize_spec("emb:8 ngram-emb:4 spatial-dropout:0.5 gru:6 "
                          "pool:max+average+last dropout:0.5")
    model = build_model(spec, ModelInput.tokens(STEPS, VOCABULARY, ngrams=((2, NGRAMS),)),
                        task="binary", padding=padding)
    randomize(model, seed=33)
    runtime = assert_stream_parity(model, stream_ids(40, STEPS, padding), tmp_path)
    assert runtime.graph["inputs"][1]["name"] == "ngrams2"


def test_a_bidirectional_state_is_refused(keras):
    layers = keras.layers
    inputs = layers.Input((STEPS,), dtype="int32")
    x = layers.Embedding(VOCABULARY, 4)(inputs)
    output, *states = layers.Bidirectional(layers.GRU(3, return_state=True))(x)
    model = keras.Model(inputs, layers.Dense(1)(layers.Concatenate()([output, *states])))
    with pytest.raises(UnsupportedModelError, match="return_state"):
        model_graph(model)


@pytest.mark.parametrize("text", ["emb:8 gru:5", "emb:8 lstm:5 pool:max+average",
                                  "emb:8 ngram-emb:4 spatial-dropout:0.2 gru:6 "
                                  "pool:max+average+last"])
def test_a_model_loaded_from_its_keras_file_exports_alike(keras, tmp_path, text):
    """A loaded model passes its masks to its layers explicitly (the saved graph holds the
    NotEqual ... ops): that is the mask Keras derives, and the export accepts it."""
    from rnn_tui.nets import ModelInput, build_model, normalize_spec

    ngrams = ((2, NGRAMS),) if "ngram" in text else ()
    model = build_model(normalize_spec(text), ModelInput.tokens(None, VOCABULARY, ngrams),
                        task="binary", padding="post")
    randomize(model, seed=34)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    ids = stream_ids(30, STEPS, "post") if ngrams else padded_ids(30, STEPS, "post")
    feed = as_feed(ids) if ngrams else ids
    export_runtime(loaded, tmp_path / "loaded.npz")
    got = Runtime.load(tmp_path / "loaded.npz").run(ids)
    np.testing.assert_allclose(got, model.predict(feed, verbose=0), atol=TOLERANCE,
                               equal_nan=True)


def test_an_arbitrary_explicit_mask_is_refused(keras):
    layers = keras.layers
    inputs = layers.Input((STEPS,), dtype="int32")
    x = layers.Embedding(VOCABULARY, 4, mask_zero=True)(inputs)
    mask = keras.ops.not_equal(inputs, 5)  # not the pad id: not what Keras derives
    model = keras.Model(inputs, layers.Dense(1)(layers.GRU(3)(x, mask=mask)))
    with pytest.raises(UnsupportedModelError, match="explicit mask"):
        model_graph(model)


def test_concatenating_masked_and_unmasked_sequences_is_refused(keras):
    layers = keras.layers
    inputs = layers.Input((STEPS,), dtype="int32")
    masked = layers.Embedding(VOCABULARY, 4, mask_zero=True)(inputs)
    plain = layers.Embedding(VOCABULARY, 4)(inputs)
    x = layers.GRU(3)(layers.Concatenate()([masked, plain]))
    with pytest.raises(UnsupportedModelError, match="masked and unmasked"):
        model_graph(keras.Model(inputs, layers.Dense(1)(x)))
