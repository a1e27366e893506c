"""What the Data pane shows about a corpus: ``rnn_tui.data.stats`` laid out for a pane.

Plain Python (rich renderables, no Textual). Loading is the slow part: call ``data_view``
from a worker.

>>> view = data_view("multiplication")                          # doctest: +SKIP
>>> view.histogram_title                                        # doctest: +SKIP
''
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnn_tui.tui.verdicts import printable

CLASSES_SHOWN = 6


@dataclass
class DataView:
    """The pane's content: facts, and the length histogram (empty for sequence corpora)."""

    facts: RenderableType
    counts: Sequence[int] = field(default_factory=tuple)
    edges: Sequence[float] = field(default_factory=tuple)
    histogram_title: str = ""


def _classes(label_names: list[str], counts: list[int]) -> str:
    ranked = sorted(range(len(counts)), key=lambda index: -counts[index])
    shown = ", ".join(f"{label_names[index] if index < len(label_names) else index} "
                      f"{counts[index]:,}" for index in ranked[:CLASSES_SHOWN])
    hidden = len(counts) - CLASSES_SHOWN
    return shown + (f" … (+{hidden} more)" if hidden > 0 else "")


def summary_view(summary: Any) -> DataView:
    """Lay out a ``rnn_tui.data.stats.CorpusSummary``."""
    title = Text(printable(summary.title or summary.name), style="bold underline")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()

    def row(key: str, value: Any) -> None:
        facts.add_row(key, Text(printable(str(value))))

    classes = f", {len(summary.label_names)} classes" if summary.label_names else ""
    row("corpus", f"{summary.name} · {summary.task}{classes} · "
                  f"{summary.language or 'numeric sequences'} · {summary.form}")
    for split in summary.splits:
        parts = [f"{split.size:,} examples"]
        if split.tokens is not None:
            tokens = split.tokens
            parts.append(f"words mean {tokens.mean:.0f}, median {tokens.percentiles['p50']:.0f},"
                         f" p95 {tokens.percentiles['p95']:.0f}, max {tokens.maximum:,.0f}")
        if split.feature_shape:
            parts.append(" × ".join(map(str, split.feature_shape)) + " (steps × channels)")
        if split.targets is not None:
            parts.append(f"target mean {split.targets.mean:.3f}")
        if split.balance is not None:
            parts.append(f"balance {split.balance:.2f}")
        row(split.name, " · ".join(parts))
        if split.label_counts and split.name == "train":
            row("classes", _classes(summary.label_names, split.label_counts))
    for note in summary.notes:
        row("note", note)
    for example in summary.examples[:2]:
        shown = example.text if len(example.text) <= 160 else example.text[:157] + "…"
        row(f"e.g. {example.label}", shown)
    view = DataView(Group(title, facts))
    histogram = summary.histogram
    if histogram is not None and histogram.counts:
        view.counts = list(histogram.counts)
        view.edges = [float(edge) for edge in histogram.edges]
        view.histogram_title = "words per text"
        if histogram.overflow_from is not None:
            view.histogram_title += f" (the last bar: {histogram.overflow_from} and more)"
    return view


def data_view(name: str, stage: Callable[[str], None] | None = None) -> DataView:
    """Load corpus ``name`` and describe it (seconds for the big corpora); ``stage(text)``
    hears each step as it starts, for a progress line.

    A corpus missing from the data home raises the data layer's NotFoundError, whose message
    says how to fetch or import it.
    """
    from rnn_tui.data import load_corpus, stats

    corpus = load_corpus(name)
    if stage is not None:
        rows = sum(len(split) for split in corpus.splits().values())
        stage(f"counting words in {rows:,} texts" if corpus.is_text
              else f"describing {rows:,} sequences")
    return summary_view(stats.describe(corpus, examples=2))
