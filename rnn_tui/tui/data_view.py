"""What the Data pane shows about a corpus: facts and a length histogram (plain Python).

>>> view = data_view("multiplication")                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnn_tui.tui.verdicts import printable

HISTOGRAM_BINS = 30


@dataclass
class DataView:
    facts: RenderableType
    counts: Sequence[int] = field(default_factory=tuple)
    edges: Sequence[float] = field(default_factory=tuple)
    histogram_title: str = ""


def _lengths(texts: Sequence[str]) -> np.ndarray:
    return np.fromiter((len(text.split()) for text in texts), dtype=np.int64, count=len(texts))


def data_view(name: str) -> DataView:
    """Load corpus ``name`` (slow: call it from a worker) and describe it.

    A corpus missing from the data home raises the data layer's NotFoundError, whose message
    says how to fetch or import it.
    """
    from rnn_tui.data import load_corpus

    corpus = load_corpus(name)
    title = Text(printable(corpus.source.title or corpus.name), style="bold underline")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()

    def row(key: str, value: Any) -> None:
        facts.add_row(key, Text(printable(str(value))))

    row("name", corpus.name)
    row("task", f"{corpus.task}" + (f", {corpus.num_classes} classes" if corpus.num_classes
                                    else ""))
    row("language", corpus.language or "numeric sequences")
    row("form", corpus.form)
    for split_name, split in corpus.splits().items():
        row(split_name, f"{len(split):,} examples")
    labels = corpus.train.labels
    if corpus.label_names:
        counts = np.bincount(labels.astype(np.int64), minlength=corpus.num_classes)
        top = np.argsort(-counts)[:6]
        shown = ", ".join(f"{corpus.label_names[i]} {counts[i]:,}" for i in top)
        more = f" … (+{corpus.num_classes - len(top)})" if corpus.num_classes > len(top) else ""
        row("train classes", shown + more)
    else:
        row("targets", f"mean {float(np.mean(labels)):.3f}, std {float(np.std(labels)):.3f}")
    for note in corpus.notes:
        row("note", note)

    if not corpus.is_text:
        features = corpus.train.features
        row("shape", f"{features.shape[1]} steps × {features.shape[2]} channels")
        return DataView(Group(title, facts))
    lengths = _lengths(corpus.train.texts)
    row("words per text", f"mean {lengths.mean():.0f}, median {np.median(lengths):.0f}, "
                          f"95% ≤ {np.percentile(lengths, 95):.0f}, max {lengths.max():,}")
    cut = max(float(np.percentile(lengths, 99)), 1.0)
    counts, edges = np.histogram(np.minimum(lengths, cut), bins=HISTOGRAM_BINS)
    return DataView(Group(title, facts), [int(c) for c in counts], [float(e) for e in edges],
                    "words per training text (capped at the 99th percentile)")
