"""What ``rnn-tui data show`` reports about a corpus: counts, balance, lengths, examples.

Lengths are measured in characters and in tokens, where a token is a whitespace-separated
word (Korean: an eojeol). That is what the tutorials count to choose ``maxlen``, and it needs
no vocabulary; a model's own tokenizer may split finer.

>>> from rnn_tui.data import load_corpus
>>> summary = describe(load_corpus("series"))
>>> summary.splits[0].size
6
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rnn_tui.data.corpus import Corpus, Split

PERCENTILES = (50, 75, 90, 95, 99)
# A split is called imbalanced when its smallest class has under half the rows of its largest
# (a binary split worse than 1:2, i.e. the minority under a third of the rows): the point from
# which accuracy starts to flatter a majority guess and class weights are worth a look. A 47/53
# split is balanced for every practical purpose.
BALANCED_RATIO = 0.5


@dataclass
class Distribution:
    """Summary of a list of numbers (lengths or regression targets)."""

    count: int
    mean: float
    minimum: float
    maximum: float
    percentiles: dict[str, float]

    @classmethod
    def of(cls, values: np.ndarray) -> Distribution:
        values = np.asarray(values, dtype=np.float64)
        if not values.size:
            return cls(0, 0.0, 0.0, 0.0, {f"p{p}": 0.0 for p in PERCENTILES})
        return cls(
            count=int(values.size),
            mean=float(values.mean()),
            minimum=float(values.min()),
            maximum=float(values.max()),
            percentiles={
                f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(values, PERCENTILES))
            },
        )


@dataclass
class SplitSummary:
    name: str
    size: int
    label_counts: list[int] | None = None  # per class id, classification only
    balance: float | None = None  # smallest class count / largest (1.0 = balanced)
    tokens: Distribution | None = None  # text corpora
    chars: Distribution | None = None
    targets: Distribution | None = None  # regression
    feature_shape: list[int] | None = None  # sequence corpora: (timesteps, channels)


@dataclass
class Histogram:
    """Counts of token lengths in bins ``[edges[i], edges[i+1])``; the last bin is open."""

    edges: list[int]
    counts: list[int]
    overflow_from: int | None = None  # the last bin holds every length >= this


@dataclass
class Example:
    split: str
    label: str
    text: str


@dataclass
class CorpusSummary:
    name: str
    title: str
    task: str
    language: str | None
    form: str
    label_names: list[str]
    splits: list[SplitSummary]
    notes: list[str]
    histogram: Histogram | None
    examples: list[Example] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(split.size for split in self.splits)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = self.total
        return data


def token_lengths(texts: list[str]) -> np.ndarray:
    return np.fromiter((len(text.split()) for text in texts), dtype=np.int64, count=len(texts))


def char_lengths(texts: list[str]) -> np.ndarray:
    return np.fromiter((len(text) for text in texts), dtype=np.int64, count=len(texts))


def _summarize_split(name: str, split: Split, corpus: Corpus) -> SplitSummary:
    summary = SplitSummary(name=name, size=len(split))
    if corpus.task == "regression":
        summary.targets = Distribution.of(split.labels)
    else:
        counts = np.bincount(split.labels.astype(np.int64), minlength=corpus.num_classes)
        summary.label_counts = [int(c) for c in counts]
        summary.balance = float(counts.min() / counts.max()) if counts.max() else None
    if split.texts is not None:
        summary.tokens = Distribution.of(token_lengths(split.texts))
        summary.chars = Distribution.of(char_lengths(split.texts))
    else:
        summary.feature_shape = [int(d) for d in split.features.shape[1:]]
    return summary


def length_histogram(lengths: np.ndarray, bins: int = 16) -> Histogram:
    """Bins of whole-number width up to the 99th percentile, then one open bin for the rest."""
    lengths = np.asarray(lengths)
    if not lengths.size:
        return Histogram(edges=[0, 1], counts=[0])
    top = int(np.percentile(lengths, 99))
    width = max(1, math.ceil((top + 1) / bins))
    limit = width * bins
    edges = list(range(0, limit + 1, width))
    counts, _ = np.histogram(lengths[lengths < limit], bins=edges)
    histogram = Histogram(edges=edges, counts=[int(c) for c in counts])
    overflow = int((lengths >= limit).sum())
    if overflow:
        histogram.counts.append(overflow)
        histogram.edges.append(int(lengths.max()) + 1)
        histogram.overflow_from = limit
    return histogram


def _examples(corpus: Corpus, count: int) -> list[Example]:
    """Up to ``count`` training examples, taking labels in turn so that each class shows."""
    if count <= 0:
        return []
    split = corpus.train
    if corpus.task == "regression" or not corpus.label_names:
        indices = list(range(min(count, len(split))))
    else:
        by_label: dict[int, list[int]] = {}
        for index, label in enumerate(split.labels[: max(2000, count * 50)].tolist()):
            by_label.setdefault(int(label), []).append(index)
        indices = []
        rank = 0
        while len(indices) < count and any(rank < len(v) for v in by_label.values()):
            for label in sorted(by_label):
                if rank < len(by_label[label]) and len(indices) < count:
                    indices.append(by_label[label][rank])
            rank += 1
    return [Example("train", _label_text(corpus, split, i), _input_text(split, i)) for i in indices]


def _label_text(corpus: Corpus, split: Split, index: int) -> str:
    label = split.labels[index]
    if corpus.task == "regression":
        return f"{float(label):.4g}"
    return corpus.label_names[int(label)] if corpus.label_names else str(int(label))


def _input_text(split: Split, index: int) -> str:
    if split.texts is not None:
        return split.texts[index]
    sequence = np.asarray(split.features[index])
    markers = sequence.ndim == 2 and sequence.shape[1] == 2
    if markers and set(np.unique(sequence[:, 0])) <= {0.0, 1.0}:
        marked = np.flatnonzero(sequence[:, 0] == 1.0)
        values = ", ".join(f"{sequence[t, 1]:.3f}" for t in marked)
        return f"{len(sequence)} steps of (marker, value); marked at t={marked.tolist()}: {values}"
    shown = ", ".join(f"{v:.3g}" for v in sequence.reshape(len(sequence), -1)[:12, 0])
    more = ", ..." if len(sequence) > 12 else ""
    return f"[{shown}{more}]"


def describe(corpus: Corpus, *, examples: int = 3, bins: int = 16) -> CorpusSummary:
    """Everything ``data show`` prints about ``corpus``."""
    splits = [_summarize_split(name, split, corpus) for name, split in corpus.splits().items()]
    histogram = None
    if corpus.is_text:
        all_texts = [text for split in corpus.splits().values() for text in split.texts]
        histogram = length_histogram(token_lengths(all_texts), bins=bins)
    return CorpusSummary(
        name=corpus.name,
        title=corpus.source.title,
        task=corpus.task,
        language=corpus.language,
        form=corpus.form,
        label_names=list(corpus.label_names),
        splits=splits,
        notes=list(corpus.notes),
        histogram=histogram,
        examples=_examples(corpus, examples),
    )


def is_balanced(summary: SplitSummary) -> bool | None:
    """True when the smallest class has at least half the largest class' count
    (``BALANCED_RATIO``)."""
    return None if summary.balance is None else summary.balance >= BALANCED_RATIO
