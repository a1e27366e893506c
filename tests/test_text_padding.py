"""rnn_tui.text.pad_sequences against keras.utils.pad_sequences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.text import pad_sequences


@pytest.fixture(scope="module")
def keras_pad():
    from rnn_tui.backend import keras

    return keras().utils.pad_sequences


@settings(max_examples=300, deadline=None)
@given(
    sequences=st.lists(st.lists(st.integers(0, 30_000), max_size=12), min_size=1, max_size=8),
    maxlen=st.one_of(st.none(), st.integers(1, 15)),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
    value=st.integers(0, 3),
    dtype=st.sampled_from(["int32", "int64", "float32"]),
)
def test_same_as_keras(keras_pad, sequences, maxlen, padding, truncating, value, dtype):
    ours = pad_sequences(sequences, maxlen=maxlen, dtype=dtype, padding=padding,
                         truncating=truncating, value=value)
    theirs = keras_pad(sequences, maxlen=maxlen, dtype=dtype, padding=padding,
                       truncating=truncating, value=value)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_tutorial_examples(keras_pad):
    # the NSMC tutorial: post padding to the longest; IMDB: pre padding, maxlen cuts the start
    assert pad_sequences([[25, 884, 8], [588]], padding="post").tolist() == [[25, 884, 8], [588, 0, 0]]
    assert pad_sequences([[1, 2, 3, 4, 5]], maxlen=3).tolist() == [[3, 4, 5]]
    assert pad_sequences([[1, 2, 3, 4, 5]], maxlen=3, truncating="post").tolist() == [[1, 2, 3]]
    arrays = [np.array([3, 4]), np.array([], dtype=int)]
    np.testing.assert_array_equal(pad_sequences(arrays, maxlen=3), keras_pad(arrays, maxlen=3))


def test_bad_arguments():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences([[1]], truncating="both")
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences([[1]], maxlen=-1)
    assert pad_sequences([], maxlen=None).shape == (0, 0)
