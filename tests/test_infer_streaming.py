"""Streaming equals recomputing: every update and every trace row, on random edit walks.

Graphs are written here directly (the exporter's format) with random weights, so these
tests need no TensorFlow; the runtime they compare against is held to Keras by
test_infer_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from infer_helpers import (
    VOCABULARY,
    GraphBuilder,
    bidirectional,
    ngram_last_state,
    pooled_lstm,
    stacked_mixed,
    with_bigrams,
)
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


# ---------------------------------------------------------------------------- n-gram streams
NGRAM_CASES = [
    ("gru-masked-post", lambda: ngram_last_state(mask_zero=True), "post"),
    ("lstm-masked-post", lambda: ngram_last_state(mask_zero=True, cell="lstm"), "post"),
    ("gru-unmasked-post", lambda: ngram_last_state(mask_zero=False), "post"),
    ("lstm-masked-pre", lambda: ngram_last_state(mask_zero=True, cell="lstm"), "pre"),
    ("gru-unmasked-pre", lambda: ngram_last_state(mask_zero=False, scale=1.2), "pre"),
    ("simplernn-unmasked-pre-settles",
     lambda: ngram_last_state(maxlen=40, mask_zero=False, cell="simplernn", scale=0.05), "pre"),
]


@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize(("label", "build", "padding"), NGRAM_CASES,
                         ids=[c[0] for c in NGRAM_CASES])
def test_ngram_streams_with_last_state_stream_like_recomputing(label, build, padding,
                                                              truncating):
    """Per-position (token, bigram) ids: streaming equals recomputing the padded text."""
    runtime = build()
    assert runtime.stream_names == ["tokens", "ngrams2"]
    stream = make_stream(runtime, maxlen=runtime.sequence_length, padding=padding,
                         truncating=truncating)
    assert isinstance(stream, IdStream)
    for ids in edit_walk(seed=hash(label) % 1000 + 7):
        pairs = with_bigrams(ids)
        np.testing.assert_allclose(stream.update(pairs), reference(runtime, stream, pairs),
                                   atol=2e-6, rtol=0, equal_nan=True, err_msg=f"ids={ids}")
    ids = list(np.random.default_rng(6).integers(1, VOCABULARY, 14))
    pairs = with_bigrams(ids)
    expected = np.stack([reference(runtime, stream, pairs[: k + 1]) for k in range(len(ids))])
    np.testing.assert_allclose(stream.trace(pairs), expected, atol=2e-6, rtol=0,
                               equal_nan=True)


def test_an_edit_at_the_end_costs_one_step_in_every_stream():
    runtime = ngram_last_state(maxlen=50, mask_zero=True)
    stream = make_stream(runtime, maxlen=50, padding="post", truncating="pre")
    stream.update(with_bigrams([3, 4, 5, 6]))
    assert stream.steps_computed == 4
    stream.update(with_bigrams([3, 4, 5, 6, 8]))  # a word typed: its bigram is new too
    assert stream.steps_computed == 1
    stream.update(with_bigrams([3, 4, 5, 6, 9]))  # the last word changed: both its ids
    assert stream.steps_computed == 1
    stream.update(with_bigrams([3, 7, 5, 6, 9]))  # inside: that word's and the next bigram
    assert stream.steps_computed == 4


def test_one_row_and_batches_agree_on_the_last_state():
    """The batched loop (rows sorted, all-pad rows joining nothing) and the single-row loop
    give the same final states."""
    runtime = ngram_last_state(maxlen=12, mask_zero=False, cell="lstm", scale=0.8)
    rng = np.random.default_rng(3)
    rows = []
    for length in (0, 1, 5, 12, 7, 0, 3):
        pairs = with_bigrams(list(rng.integers(1, VOCABULARY, length)))
        row = np.zeros((12, 2), np.int64)
        row[12 - length:] = pairs  # pre padding: the pad record is shared
        rows.append(row)
    batch = np.stack(rows)
    together = runtime.run(batch)
    alone = np.concatenate([runtime.run(batch[i: i + 1]) for i in range(len(batch))])
    np.testing.assert_allclose(together, alone, atol=2e-6)
