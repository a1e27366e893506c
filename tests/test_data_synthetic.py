"""The generated regression tasks: the tutorial's series and the multiplication problem."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.data import load_corpus
from rnn_tui.errors import UserError


def test_series_is_the_tutorials_toy():
    corpus = load_corpus("series")
    assert corpus.task == "regression" and corpus.label_names == [] and corpus.language is None
    assert corpus.train.features.shape == (6, 4, 1) and corpus.train.features.dtype == np.float32
    # for i in range(6): X = [[c / 10] for c in range(i, i + 4)], Y = (i + 4) / 10
    expected_x = np.array([[[c / 10] for c in range(i, i + 4)] for i in range(6)], dtype=np.float32)
    expected_y = np.array([(i + 4) / 10 for i in range(6)], dtype=np.float32)
    np.testing.assert_allclose(corpus.train.features, expected_x, atol=1e-6)
    np.testing.assert_allclose(corpus.train.labels, expected_y, atol=1e-6)


def test_series_test_windows_follow_the_line():
    corpus = load_corpus("series", train_size=10, test_size=50, length=5, seed=3)
    x, y = corpus.test.features[:, :, 0], corpus.test.labels
    assert x.shape == (50, 5)
    np.testing.assert_allclose(np.diff(x, axis=1), 0.1, atol=1e-5)
    np.testing.assert_allclose(y, x[:, -1] + 0.1, atol=1e-5)
    starts = np.round(x[:, 0] * 10).astype(int)
    assert starts.min() >= -5 and starts.max() < 15
    again = load_corpus("series", train_size=10, test_size=50, length=5, seed=3)
    np.testing.assert_array_equal(again.test.features, corpus.test.features)


def test_multiplication_problem():
    corpus = load_corpus("multiplication", train_size=300, test_size=40, seed=0)
    x, y = corpus.train.features, corpus.train.labels
    assert x.shape == (300, 100, 2) and corpus.test.features.shape == (40, 100, 2)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers, values = x[:, :, 0], x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers.sum(axis=1) == 2).all()  # two distinct marked positions
    assert values.min() >= 0.0 and values.max() < 1.0
    products = np.where(markers == 1, values, 1.0).prod(axis=1)
    np.testing.assert_allclose(y, products, rtol=1e-6)
    # the marked positions spread over the whole sequence
    positions = np.nonzero(markers)[1]
    assert positions.min() < 10 and positions.max() > 90


def test_multiplication_is_seeded():
    first = load_corpus("multiplication", train_size=20, test_size=5, seed=7)
    same = load_corpus("multiplication", train_size=20, test_size=5, seed=7)
    other = load_corpus("multiplication", train_size=20, test_size=5, seed=8)
    np.testing.assert_array_equal(first.train.features, same.train.features)
    np.testing.assert_array_equal(first.test.labels, same.test.labels)
    assert not np.array_equal(first.train.features, other.train.features)
    short = load_corpus("multiplication", train_size=3, test_size=1, length=2)
    assert (short.train.features[:, :, 0] == 1).all()


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("multiplication", {"train_size": 0}, "train_size must be a whole number >= 1"),
        ("multiplication", {"length": 1}, "length must be a whole number >= 2"),
        ("series", {"test_size": 2.5}, "test_size of series must be int"),
        ("series", {"length": True}, "length of series must be int"),
        ("series", {"maxlen": 3}, "unknown option 'maxlen' for series"),
    ],
)
def test_bad_options(name, options, message):
    with pytest.raises(UserError, match=message):
        load_corpus(name, **options)


def test_loaders_check_sizes_when_called_directly():
    from rnn_tui.data.synthetic import load_series

    with pytest.raises(UserError, match="test_size must be a whole number"):
        load_series(test_size=2.5)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("series", {"seed": "abc"}, "option seed of series must be int, not 'abc'"),
        ("imdb", {"seed": 1.5}, "option seed of imdb must be int | None"),
        ("reuters", {"title": "yes"}, "option title of reuters must be bool"),
        ("nsmc", {"keep_empty": 1}, "must be bool"),
        ("multiplication", {"train_size": True}, "must be int"),
    ],
)
def test_option_types_are_checked(name, options, message):
    with pytest.raises(UserError, match=message):
        load_corpus(name, **options)
