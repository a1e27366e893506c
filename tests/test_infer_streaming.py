"""Streaming equals recomputing: every update and every trace row, on random edit walks.

Graphs are written here directly (the exporter's format) with random weights, so these
tests need no TensorFlow; the runtime they compare against is held to Keras by
test_infer_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from infer_helpers import VOCABULARY, GraphBuilder, bidirectional, pooled_lstm, stacked_mixed
from rnn_tui.infer.streaming import IdStream, RecomputeStream, make_stream

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


def conv_then_lstm(maxlen=12, padding_mode="same"):
    """Embedding -> Conv1D -> MaxPooling1D -> LSTM -> Dense: recomputes, and its LSTM reads
    dense rows (the forward-pass memo compares them bit for bit)."""
    builder = GraphBuilder(maxlen, 6)
    x = builder.embedding(6, mask_zero=False)
    x = builder.add("conv1d", [x], {"strides": 1, "padding": padding_mode, "dilation_rate": 1,
                                    "activation": "relu"},
                    {"kernel": builder._random(3, 6, 4), "bias": builder._random(4)})
    x = builder.add("max_pooling1d", [x], {"pool_size": 2, "strides": 2, "padding": "valid"})
    x = builder.rnn(x, 4, "lstm", 5, sequences=False)
    return builder.runtime(builder.dense(x, 5, 1, "sigmoid"))


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("build", [conv_then_lstm, bidirectional])
def test_recomputing_sessions_reuse_only_what_is_unchanged(build, padding):
    runtime = build(maxlen=12)
    stream = make_stream(runtime, maxlen=12, padding=padding, truncating="pre")
    assert isinstance(stream, RecomputeStream)
    for ids in edit_walk(seed=11, steps=80, maxlen=12):
        np.testing.assert_allclose(stream.update(ids), reference(runtime, stream, ids),
                                   atol=1e-6, equal_nan=True, err_msg=f"ids={ids}")
