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


def comparison_table(models: list[ModelFacts]) -> Any:
    """One row per model; the best value of each test metric in bold."""
    from rich.table import Table
    from rich.text import Text

    metrics = metric_names(models)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("model", no_wrap=True,
                     min_width=max((len(escape(facts.ref)) for facts in models), default=5))
    table.add_column("arch", overflow="fold", max_width=24)
    for header in (*(f"test {name}" for name in metrics), "params", "size", "train",
                   "ms/key"):
        table.add_column(escape(header), no_wrap=True, justify="right")
    best = {}
    for name in metrics:
        values = [facts.test[name] for facts in models if name in facts.test]
        if values:
            best[name] = (min if name in _LOWER_IS_BETTER else max)(values)
    for facts in models:
        cells = [Text(escape(facts.ref)), Text(escape(facts.arch or "-"))]
        for name in metrics:
            value = facts.test.get(name)
            cells.append(Text("-" if value is None else f"{value:.4f}",
                              style="bold green" if value is not None and value == best[name]
                              else ""))
        cells += [Text("-" if facts.params is None else f"{facts.params:,}"),
                  Text(_size(facts.size_bytes)),
                  Text("-" if facts.train_s is None else f"{facts.train_s:.0f}s"),
                  Text("-" if facts.keystroke_ms is None else f"{facts.keystroke_ms:.2f}")]
        table.add_row(*cells)
    return table


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
