"""The comparison drawn: a rich table, overlaid curves in the terminal (plotext) and as a PNG
(matplotlib). Every text from a card (refs, dataset and architecture names, metric names)
goes through ``rnn_tui.terminal``'s escaping."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from rnn_tui.compare.facts import ModelFacts
from rnn_tui.terminal import escape

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOWER_IS_BETTER = ("loss", "mae", "mse")


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)


def metric_names(models: list[ModelFacts]) -> list[str]:
    """The test metrics any model has, loss last."""
    names = sorted({name for facts in models for name in facts.test})
    return [name for name in names if name != "loss"] + (["loss"] if "loss" in names else [])


def short_refs(models: list[ModelFacts]) -> tuple[str, list[ModelFacts]]:
    """(the common prefix, the models without it) when two or more refs share a prefix up
    to a ``-`` (``compare-imdb-lstm:1``, ``compare-imdb-gru:1`` -> ``compare-imdb-``,
    ``lstm:1``, ``gru:1``): what a narrow table and its curves' legend show."""
    import dataclasses
    import os

    refs = [facts.ref for facts in models]
    prefix = os.path.commonprefix(refs) if len(refs) > 1 else ""
    prefix = prefix[: prefix.rfind("-") + 1]
    if not prefix:
        return "", models
    return prefix, [dataclasses.replace(facts, ref=facts.ref[len(prefix):]) for facts in models]


# Dropped first to last when a table does not fit its width.
_DROP_ORDER = ("arch", "size", "train", "params", "ms/key")


def comparison_table(models: list[ModelFacts], *, width: int | None = None) -> Any:
    """One row per model; the best value of each test metric in bold.

    ``width``: the table fits that many cells. The refs' common prefix goes to the title,
    the metric headers lose their "test " (the title says it), and columns that still do
    not fit are dropped whole (arch first, then size, train time, params, latency, and the
    metrics from the last): nothing is cut in the middle or folded.
    """
    from rich.table import Table

    metrics = metric_names(models)
    title = None
    if width is not None:
        prefix, models = short_refs(models)
        title = f"test split{'; models ' + escape(prefix) + '…' if prefix else ''}"
    best = {}
    for name in metrics:
        values = [facts.test[name] for facts in models if name in facts.test]
        if values:
            best[name] = (min if name in _LOWER_IS_BETTER else max)(values)
    columns = _columns(models, metrics, best, narrow=width is not None)
    if width is not None:
        columns = _fitting(columns, width, metrics)
    table = Table(title=title, box=None, pad_edge=False, header_style="bold")
    for header, _ in columns:
        if header == "model":
            table.add_column(header, no_wrap=True,
                             min_width=max((len(escape(facts.ref)) for facts in models),
                                           default=5))
        elif header == "arch":
            table.add_column(header, overflow="fold", max_width=24, no_wrap=width is not None)
        else:
            table.add_column(escape(header), no_wrap=True, justify="right")
    for index in range(len(models)):
        table.add_row(*(cells[index] for _, cells in columns))
    return table


def _columns(models: list[ModelFacts], metrics: list[str], best: dict[str, float],
             narrow: bool) -> list[tuple[str, list[Any]]]:
    """(header, one cell per model) for every column, in order."""
    from rich.text import Text

    columns = [("model", [Text(escape(facts.ref)) for facts in models]),
               ("arch", [Text(escape(facts.arch or "-")) for facts in models])]
    for name in metrics:
        cells = []
        for facts in models:
            value = facts.test.get(name)
            cells.append(Text("-" if value is None else f"{value:.4f}",
                              style="bold green" if value is not None and value == best[name]
                              else ""))
        columns.append((name if narrow else f"test {name}", cells))
    columns += [
        ("params", [Text("-" if facts.params is None else f"{facts.params:,}")
                    for facts in models]),
        ("size", [Text(_size(facts.size_bytes)) for facts in models]),
        ("train", [Text("-" if facts.train_s is None else f"{facts.train_s:.0f}s")
                   for facts in models]),
        ("ms/key", [Text("-" if facts.keystroke_ms is None else f"{facts.keystroke_ms:.2f}")
                    for facts in models])]
    return columns


def _fitting(columns: list[tuple[str, list[Any]]], width: int,
             metrics: list[str]) -> list[tuple[str, list[Any]]]:
    """The columns that fit ``width`` (two cells between columns), dropped in order."""
    from rich.cells import cell_len

    def needed(column: tuple[str, list[Any]]) -> int:
        header, cells = column
        if header == "arch":
            return min(24, max([4, *(cell_len(cell.plain) for cell in cells)]))
        return max([cell_len(escape(header)), *(cell_len(cell.plain) for cell in cells)])

    order = [*_DROP_ORDER, *reversed(metrics)]
    kept = list(columns)
    while sum(map(needed, kept)) + 2 * (len(kept) - 1) > width and len(kept) > 1:
        droppable = [column for column in kept if column[0] in order]
        if not droppable:
            break
        kept.remove(min(droppable, key=lambda column: order.index(column[0])))
    return kept


def overlay_panels(models: list[ModelFacts]) -> list[tuple[str, str]]:
    """(panel title, history key) for the loss and the first metric: validation curves when
    every model has them, else training curves."""
    panels = []
    for metric in ("loss", "accuracy", "mae"):
        for key in (f"val_{metric}", metric):
            if models and all(facts.history.get(key) for facts in models):
                panels.append((key, key))
                break
        if len(panels) == 2:
            break
    return panels


def terminal_curves(models: list[ModelFacts], *, width: int | None = None,
                    height: int | None = None, color: bool = True) -> str:
    """Each panel overlays one curve per model (plotext)."""
    import plotext as plt

    panels = overlay_panels(models)
    if not panels:
        return ""
    columns, rows = shutil.get_terminal_size((100, 30))
    plt.clear_figure()
    plt.subplots(1, len(panels))
    for index, (title, key) in enumerate(panels, start=1):
        plt.subplot(1, index)
        plt.title(escape(title))
        for facts in models:
            values = facts.history[key]
            plt.plot(list(range(1, len(values) + 1)), values, label=escape(facts.ref),
                     marker="dot")
        plt.xlabel("epoch")
    plt.main().plotsize(width or min(columns, 160), height or max(12, min(rows - 4, 20)))
    if not color:
        plt.theme("clear")
        return _ANSI.sub("", plt.build())
    return plt.build()


def save_png(models: list[ModelFacts], path: Path) -> Path:
    """The same overlaid curves as a PNG (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from rnn_tui.fileio import atomic_path

    panels = overlay_panels(models)
    figure = pyplot.figure(figsize=(5 * max(1, len(panels)), 4.5))
    try:
        for index, (title, key) in enumerate(panels, start=1):
            axes = figure.add_subplot(1, len(panels), index)
            for facts in models:
                values = facts.history[key]
                axes.plot(range(1, len(values) + 1), values, marker=".", label=facts.ref)
            axes.set_title(title)
            axes.set_xlabel("epochs")
            axes.grid(True, alpha=0.3)
            axes.legend()
        figure.tight_layout()
        with atomic_path(path) as temp:
            figure.savefig(temp, format="png", dpi=100)
    finally:
        pyplot.close(figure)
    return path
