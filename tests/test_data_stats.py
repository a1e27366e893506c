"""``data show``'s numbers: counts, balance, length percentiles, histogram, examples."""

from __future__ import annotations

import json

import numpy as np

from rnn_tui.data import load_corpus, stats
from rnn_tui.data.corpus import Corpus, Split


def small_corpus() -> Corpus:
    train = Split(np.array([0, 0, 0, 1]), texts=["a b c", "d", "e f", "좋다 정말 좋다 너무"])
    test = Split(np.array([1, 0]), texts=["x y", "z"])
    return Corpus("toy", "binary", ["neg", "pos"], "ko", train, test, form="test")


def test_a_47_53_split_is_balanced_and_1_to_4_is_not():
    def split(counts):
        labels = np.repeat(np.arange(len(counts)), counts)
        return Split(labels, texts=["x"] * len(labels))

    corpus = Corpus("toy", "binary", ["neg", "pos"], "en", split([47, 53]), split([20, 80]),
                    form="test")
    train, test = stats.describe(corpus).splits
    assert stats.is_balanced(train) is True and stats.is_balanced(test) is False
    assert stats.BALANCED_RATIO == 0.5


def test_counts_balance_and_lengths():
    summary = stats.describe(small_corpus(), examples=3)
    train, test = summary.splits
    assert (train.name, train.size, train.label_counts) == ("train", 4, [3, 1])
    assert train.balance == 1 / 3 and stats.is_balanced(train) is False
    assert test.label_counts == [1, 1] and stats.is_balanced(test) is True
    assert train.tokens.count == 4 and train.tokens.maximum == 4 and train.tokens.minimum == 1
    assert train.tokens.mean == (3 + 1 + 2 + 4) / 4
    assert train.tokens.percentiles["p50"] == np.percentile([3, 1, 2, 4], 50)
    assert train.chars.maximum == len("좋다 정말 좋다 너무")
    assert summary.total == 6
    # examples take the labels in turn
    assert [(e.label, e.text) for e in summary.examples] == [
        ("neg", "a b c"), ("pos", "좋다 정말 좋다 너무"), ("neg", "d")]
    data = json.loads(json.dumps(summary.to_dict(), ensure_ascii=False))
    assert data["splits"][0]["label_counts"] == [3, 1] and data["total"] == 6


def test_histogram_bins_and_overflow():
    lengths = np.array([0, 1, 1, 2, 5, 9, 9, 10] + [3] * 100 + [500])
    histogram = stats.length_histogram(lengths, bins=4)
    assert sum(histogram.counts) == len(lengths)
    assert histogram.edges[0] == 0 and histogram.overflow_from is not None
    assert histogram.counts[-1] == int((lengths >= histogram.overflow_from).sum())
    widths = np.diff(histogram.edges[:-1])
    assert (widths == widths[0]).all()
    for i, count in enumerate(histogram.counts[:-1]):
        low, high = histogram.edges[i], histogram.edges[i + 1]
        assert count == int(((lengths >= low) & (lengths < high)).sum())
    assert stats.length_histogram(np.array([], dtype=int)).counts == [0]
    flat = stats.length_histogram(np.array([4, 4, 4]), bins=4)
    assert flat.overflow_from is None and sum(flat.counts) == 3


def test_regression_corpus():
    summary = stats.describe(load_corpus("multiplication", train_size=50, test_size=10), examples=2)
    train = summary.splits[0]
    assert train.label_counts is None and train.tokens is None and summary.histogram is None
    assert train.feature_shape == [100, 2] and 0 <= train.targets.minimum <= train.targets.maximum < 1
    assert "marked at t=" in summary.examples[0].text
    series = stats.describe(load_corpus("series"), examples=1)
    assert series.examples[0].text == "[0, 0.1, 0.2, 0.3]" and series.examples[0].label == "0.4"
