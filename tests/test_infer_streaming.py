"""Streaming equals recomputing: every update and every trace row, on random edit walks.

Graphs are written here directly (the exporter's format) with random weights, so these
tests need no TensorFlow; the runtime they compare against is held to Keras by
test_infer_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.infer.export import expected_masks
from rnn_tui.infer.format import FORMAT, FORMAT_VERSION
from rnn_tui.infer.runtime import Runtime
from rnn_tui.infer.streaming import IdStream, RecomputeStream, make_stream

VOCABULARY = 30
GATES = {"simplernn": 1, "lstm": 4, "gru": 3}


class GraphBuilder:
    """Writes a runtime graph layer by layer, with random weights."""

    def __init__(self, maxlen: int | None, seed: int = 0, scale: float = 0.6):
        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.nodes: list[dict] = []
        self.weights: dict[str, np.ndarray] = {}
        self.maxlen = maxlen
        self.count = 0

    def _random(self, *shape):
        return self.rng.normal(0, self.scale, shape).astype(np.float32)

    def add(self, op, inputs, config=None, weights=None):
        self.count += 1
        name = f"{op}_{self.count}"
        output = f"t{self.count}"
        keys = {}
        for role, array in (weights or {}).items():
            keys[role] = f"{name}/{role}"
            self.weights[keys[role]] = array
        self.nodes.append({"name": name, "op": op, "inputs": list(inputs), "output": output,
                           "config": config or {}, "weights": keys})
        return output

    def embedding(self, dim=6, mask_zero=True):
        return self.add("embedding", ["t0"], {"mask_zero": mask_zero},
                        {"embeddings": self._random(VOCABULARY, dim)})

    def rnn(self, tensor, width, cell="lstm", units=5, sequences=True, **options):
        gates = GATES[cell]
        weights = {"kernel": self._random(width, gates * units),
                   "recurrent_kernel": self._random(units, gates * units)}
        weights["bias"] = self._random(2, 3 * units) if cell == "gru" else \
            self._random(gates * units)
        config = {"cell": cell, "units": units, "activation": "tanh",
                  "recurrent_activation": "sigmoid", "return_sequences": sequences,
                  "go_backwards": False, **options}
        return self.add("rnn", [tensor], config, weights)

    def dense(self, tensor, width, units, activation="linear"):
        return self.add("dense", [tensor], {"units": units, "activation": activation},
                        {"kernel": self._random(width, units), "bias": self._random(units)})

    def runtime(self, output) -> Runtime:
        graph = {"format": FORMAT, "format_version": FORMAT_VERSION, "dtype": "float32",
                 "inputs": [{"name": "tokens", "tensor": "t0", "dtype": "int32",
                             "shape": [None, self.maxlen]}],
                 "outputs": [output], "nodes": self.nodes}
        masks = expected_masks(graph)
        for node in self.nodes:
            node["mask"] = masks[node["output"]]
        return Runtime(graph, self.weights)


def pooled_lstm(maxlen=10, mask_zero=True, cell="lstm", seed=0, scale=0.6):
    """Embedding + RNN(seq) + [max, mean] + Dense(sigmoid): the shipped models' shape."""
    builder = GraphBuilder(maxlen, seed, scale)
    x = builder.embedding(6, mask_zero)
    x = builder.rnn(x, 6, cell, 5)
    pooled = [builder.add("global_max_pooling1d", [x]),
              builder.add("global_average_pooling1d", [x])]
    x = builder.add("concatenate", pooled, {"axis": -1})
    return builder.runtime(builder.dense(x, 10, 1, "sigmoid"))


def stacked_mixed(maxlen=10, mask_zero=True, seed=1):
    """Embedding -> Dense on the sequence -> GRU -> SimpleRNN(final) plus a max over the
    embeddings themselves (a pooling that sees the pad rows) -> softmax over 3."""
    builder = GraphBuilder(maxlen, seed)
    embedded = builder.embedding(6, mask_zero)
    projected = builder.dense(embedded, 6, 4, "tanh")
    joined = builder.add("concatenate", [embedded, projected], {"axis": -1})
    x = builder.rnn(joined, 10, "gru", 5)
    x = builder.add("activation", [x], {"activation": "relu"})
    final = builder.rnn(x, 5, "simplernn", 4, sequences=False)
    embedding_max = builder.add("global_max_pooling1d", [embedded])
    x = builder.add("concatenate", [final, embedding_max], {"axis": -1})
    x = builder.add("identity", [x], {"layer": "Dropout"})
    return builder.runtime(builder.dense(x, 10, 3, "softmax"))


def bidirectional(maxlen=10):
    builder = GraphBuilder(maxlen, 2)
    x = builder.embedding(6, True)
    weights = {}
    for half in ("forward", "backward"):
        weights[f"{half}/kernel"] = builder._random(6, 16)
        weights[f"{half}/recurrent_kernel"] = builder._random(4, 16)
        weights[f"{half}/bias"] = builder._random(16)
    config = {"cell": "lstm", "units": 4, "return_sequences": False}
    x = builder.add("bidirectional", [x], {
        "merge_mode": "concat", "forward": dict(config, go_backwards=False),
        "backward": dict(config, go_backwards=True)}, weights)
    return builder.runtime(builder.dense(x, 8, 1, "sigmoid"))


def reference(runtime, stream, ids):
    return runtime.run(stream.padded(stream.window(ids)))[0]


def edit_walk(seed, steps=60, maxlen=10):
    """Random edits of a token list: type, retype the last, delete, change or insert inside,
    paste a long text."""
    rng = np.random.default_rng(seed)
    ids: list[int] = []
    for _ in range(steps):
        action = rng.integers(0, 7)
        if action <= 2:
            ids.append(int(rng.integers(1, VOCABULARY)))
        elif action == 3 and ids:
            ids[-1] = int(rng.integers(1, VOCABULARY))
        elif action == 4 and ids:
            ids.pop()
        elif action == 5 and ids:
            ids[int(rng.integers(0, len(ids)))] = int(rng.integers(1, VOCABULARY))
        elif action == 6:
            if rng.random() < 0.15:
                ids = [int(t) for t in rng.integers(1, VOCABULARY, maxlen + 4)]
            else:
                ids.insert(int(rng.integers(0, len(ids) + 1)), int(rng.integers(1, VOCABULARY)))
        yield list(ids)


CASES = [
    ("masked-post", lambda: pooled_lstm(mask_zero=True), "post"),
    ("unmasked-post", lambda: pooled_lstm(mask_zero=False), "post"),
    ("masked-pre", lambda: pooled_lstm(mask_zero=True), "pre"),
    # the pad run reaches a fixed point after 28 steps: texts of up to 12 tokens stream,
    # longer ones (the walks reach 14) start from a state that depends on their length
    ("unmasked-pre-settles", lambda: pooled_lstm(maxlen=40, mask_zero=False, scale=0.05),
     "pre"),
    ("unmasked-pre-unsettled", lambda: pooled_lstm(mask_zero=False, cell="simplernn",
                                                   scale=1.5), "pre"),
    ("gru-masked-post", lambda: pooled_lstm(cell="gru"), "post"),
    ("stacked-masked-post", lambda: stacked_mixed(mask_zero=True), "post"),
    ("stacked-unmasked-post", lambda: stacked_mixed(mask_zero=False), "post"),
    ("stacked-masked-pre", lambda: stacked_mixed(mask_zero=True), "pre"),
    ("stacked-unmasked-pre", lambda: stacked_mixed(mask_zero=False), "pre"),
]


@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize(("label", "build", "padding"), CASES, ids=[c[0] for c in CASES])
def test_streaming_equals_recomputing(label, build, padding, truncating):
    runtime = build()
    stream = make_stream(runtime, maxlen=runtime.sequence_length, padding=padding,
                         truncating=truncating)
    assert isinstance(stream, IdStream)
    for ids in edit_walk(seed=hash(label) % 1000):
        got = stream.update(ids)
        np.testing.assert_allclose(got, reference(runtime, stream, ids), atol=2e-6, rtol=0,
                                   equal_nan=True, err_msg=f"ids={ids}")


@pytest.mark.parametrize(("label", "build", "padding"), CASES, ids=[c[0] for c in CASES])
def test_trace_equals_each_prefix(label, build, padding):
    runtime = build()
    for truncating in ("pre", "post"):
        stream = make_stream(runtime, maxlen=runtime.sequence_length, padding=padding,
                             truncating=truncating)
        ids = list(np.random.default_rng(5).integers(1, VOCABULARY, 14))
        trace = stream.trace(ids)
        expected = np.stack([reference(runtime, stream, ids[: k + 1]) for k in range(len(ids))])
        np.testing.assert_allclose(trace, expected, atol=2e-6, rtol=0, equal_nan=True)
        # the stream still answers correctly after a trace
        np.testing.assert_allclose(stream.update(ids[:3]), reference(runtime, stream, ids[:3]),
                                   atol=2e-6, equal_nan=True)


def test_pad_run_fixed_point_is_detected():
    settles = IdStream(pooled_lstm(maxlen=40, mask_zero=False, scale=0.05), maxlen=40,
                       padding="pre", truncating="pre")
    assert settles._pad_facts()["fixed"] == 28
    masked = IdStream(pooled_lstm(mask_zero=True), maxlen=10, padding="pre", truncating="pre")
    assert masked._pad_facts()["fixed"] == 0
    chaotic = IdStream(pooled_lstm(mask_zero=False, cell="simplernn", scale=1.5), maxlen=10,
                       padding="pre", truncating="pre")
    assert chaotic._pad_facts()["fixed"] is None


def test_one_step_per_new_token():
    runtime = pooled_lstm(maxlen=50, mask_zero=True)
    stream = make_stream(runtime, maxlen=50, padding="post", truncating="pre")
    stream.update([3, 4, 5, 6, 7])
    assert stream.steps_computed == 5
    stream.update([3, 4, 5, 6, 7, 8])  # a word typed
    assert stream.steps_computed == 1
    stream.update([3, 4, 5, 6, 7, 9])  # the last word changed
    assert stream.steps_computed == 1
    stream.update([3, 4, 5, 6, 7, 9])  # nothing changed
    assert stream.steps_computed == 0
    stream.update([3, 4, 5, 6, 7])  # a word deleted
    assert stream.steps_computed == 0
    stream.update([3, 2, 5, 6, 7])  # an edit inside recomputes from there
    assert stream.steps_computed == 4
    trace = stream.trace(list(range(1, 21)))
    assert trace.shape == (20, 1)
    assert stream.steps_computed == 20  # one step per token for the whole trace


def test_settled_pre_padding_streams_too():
    runtime = pooled_lstm(maxlen=40, mask_zero=False, scale=0.05)
    stream = make_stream(runtime, maxlen=40, padding="pre", truncating="pre")
    fixed = stream._pad_facts()["fixed"]
    assert fixed is not None and fixed < 30
    stream.update([5] * 5)
    stream.update([5] * 6)
    assert stream.steps_computed == 1
    np.testing.assert_allclose(stream.update([5] * 6), reference(runtime, stream, [5] * 6),
                               atol=2e-6)


def test_models_that_cannot_stream_recompute():
    runtime = bidirectional()
    stream = make_stream(runtime, maxlen=10, padding="post", truncating="pre")
    assert isinstance(stream, RecomputeStream) and not stream.streaming
    for ids in edit_walk(seed=9, steps=20):
        np.testing.assert_allclose(stream.update(ids), reference(runtime, stream, ids),
                                   atol=1e-6)
    ids = [4, 5, 6, 7]
    expected = np.stack([reference(runtime, stream, ids[: k + 1]) for k in range(4)])
    np.testing.assert_allclose(stream.trace(ids), expected, atol=1e-6)


def test_no_fixed_length():
    runtime = pooled_lstm(maxlen=None, mask_zero=True)
    stream = make_stream(runtime, maxlen=None, padding="post", truncating="pre")
    for ids in edit_walk(seed=4, steps=30, maxlen=25):
        np.testing.assert_allclose(stream.update(ids), reference(runtime, stream, ids),
                                   atol=2e-6, equal_nan=True)
    assert stream.update([]).shape == (1,)


def test_stream_and_model_lengths_must_agree():
    with pytest.raises(ValueError, match="maxlen"):
        make_stream(pooled_lstm(maxlen=10), maxlen=12, padding="post", truncating="pre")
