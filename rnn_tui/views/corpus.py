"""A corpus summary (``rnn_tui.data.stats``) as both faces show it: the full report that
``rnn-tui data show`` prints (``corpus_report``), and the compact facts and histogram of the
app's Data pane (``data_view``, ``summary_view``).

Rich renderables, no Textual and no click. Loading is the slow part: call ``data_view``
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

from rnn_tui.terminal import printable
from rnn_tui.terminal import rich_text as safe

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


def corpus_report(summary: Any) -> list[RenderableType]:
    """``rnn-tui data show``'s report of a ``CorpusSummary``: splits, labels, lengths or
    targets, the length histogram as bars, examples and notes (print each part)."""
    # Names, labels, texts and notes come from the data: escaped, never read as markup.
    parts: list[RenderableType] = [
        Text.from_markup(f"[bold]{safe(summary.name)}[/]: {safe(summary.title)}"),
        Text.from_markup(f"task {summary.task} · language {safe(summary.language or '-')} · "
                         f"form {safe(summary.form)} · {summary.total:,} examples"),
    ]
    classification = bool(summary.label_names) and summary.task != "regression"
    parts.append(_splits_table(summary, classification))
    if classification:
        parts.append(_labels_table(summary))
    first = summary.splits[0]
    if first.tokens is not None:
        parts.append(_lengths_table(summary))
    if first.targets is not None:
        parts.append(_targets_table(summary))
    if summary.histogram is not None:
        parts.append(Text("Tokens per text (all splits)", style="italic"))
        parts.extend(_histogram_bars(summary.histogram))
    if summary.examples:
        parts.append(_examples_table(summary))
    for note in summary.notes:
        parts.append(Text.from_markup(f"[dim]· {safe(note)}[/]"))
    return parts


def _splits_table(summary: Any, classification: bool) -> Table:
    from rnn_tui.data import stats

    sizes = Table(title="Splits", title_justify="left")
    sizes.add_column("split")
    sizes.add_column("size", justify="right")
    if classification:
        sizes.add_column(f"balance (min/max class; under {stats.BALANCED_RATIO:g} is "
                         "imbalanced)", justify="right")
    for split in summary.splits:
        row = [split.name, f"{split.size:,}"]
        if classification:
            balanced = stats.is_balanced(split)
            row.append(f"{split.balance:.3f} " + ("balanced" if balanced else "imbalanced"))
        sizes.add_row(*row)
    return sizes


def _labels_table(summary: Any) -> Table:
    labels = Table(title="Labels", title_justify="left")
    labels.add_column("id", justify="right")
    labels.add_column("label")
    for split in summary.splits:
        labels.add_column(split.name, justify="right")
        labels.add_column("%", justify="right")
    for class_id, label in enumerate(summary.label_names):
        row = [str(class_id), safe(label)]
        for split in summary.splits:
            count = split.label_counts[class_id]
            row += [f"{count:,}", f"{100 * count / split.size:.1f}" if split.size else "-"]
        labels.add_row(*row)
    return labels


def _lengths_table(summary: Any) -> Table:
    lengths = Table(title="Text lengths", title_justify="left")
    lengths.add_column("split")
    lengths.add_column("unit")
    for column in ("mean", "min", *summary.splits[0].tokens.percentiles, "max"):
        lengths.add_column(column, justify="right")
    for split in summary.splits:
        for unit, dist in (("tokens", split.tokens), ("chars", split.chars)):
            lengths.add_row(
                split.name, unit, f"{dist.mean:.1f}", f"{dist.minimum:.0f}",
                *(f"{v:.0f}" for v in dist.percentiles.values()), f"{dist.maximum:.0f}",
            )
    return lengths


def _targets_table(summary: Any) -> Table:
    first = summary.splits[0]
    shape = "x".join(map(str, first.feature_shape or []))
    targets = Table(title=f"Targets (inputs: {shape} per example)", title_justify="left")
    targets.add_column("split")
    for column in ("mean", "min", *first.targets.percentiles, "max"):
        targets.add_column(column, justify="right")
    for split in summary.splits:
        dist = split.targets
        targets.add_row(
            split.name, f"{dist.mean:.3f}",
            f"{dist.minimum:.3f}", *(f"{v:.3f}" for v in dist.percentiles.values()),
            f"{dist.maximum:.3f}",
        )
    return targets


def _histogram_bars(histogram: Any, width: int = 40) -> list[Text]:
    """One line per bin: its range, a bar scaled to the highest, the count."""
    lines = []
    peak = max(histogram.counts) or 1
    for index, count in enumerate(histogram.counts):
        low, high = histogram.edges[index], histogram.edges[index + 1] - 1
        if histogram.overflow_from is not None and index == len(histogram.counts) - 1:
            label = f">= {low}"
        else:
            label = f"{low}-{high}" if high > low else f"{low}"
        bar = "█" * round(width * count / peak)
        lines.append(Text.from_markup(f"{label:>11} │[cyan]{bar}[/] {count:,}"))
    return lines


def _examples_table(summary: Any) -> Table:
    table = Table(title="Examples (train)", title_justify="left", show_lines=True)
    table.add_column("label", no_wrap=True)
    table.add_column("text", overflow="fold")
    for example in summary.examples:
        text = " ".join(example.text.split())
        table.add_row(safe(example.label), safe(text[:300]) + ("…" if len(text) > 300 else ""))
    return table
