"""``rnn-tui plot MODEL``: loss and accuracy curves from the card's history.

In the terminal with plotext; as a PNG with matplotlib, drawn the way the tutorials draw them
(train in blue, validation in orange, one panel for loss and one for accuracy). Reads the
card only: no TensorFlow.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from rnn_tui.errors import UserError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def curve_panels(history: dict[str, list[float | None]]) -> list[tuple[str, list[str]]]:
    """(title, series names) per panel: loss, then accuracy (or mae, or what else there is).

    >>> curve_panels({"loss": [1.0], "val_loss": [1.1], "accuracy": [0.5]})
    [('loss', ['loss', 'val_loss']), ('accuracy', ['accuracy'])]
    """
    panels = []
    used = set()
    for metric in ("loss", "accuracy", "acc", "mae", "mse"):
        names = [key for key in (metric, f"val_{metric}") if history.get(key)]
        if names:
            panels.append((metric, names))
            used.update(names)
        if len(panels) == 2:
            break
    if len(panels) < 2:
        rest = [key for key in history if key not in used and not key.startswith("val_")
                and history.get(key)]
        for metric in rest[: 2 - len(panels)]:
            panels.append((metric, [k for k in (metric, f"val_{metric}") if history.get(k)]))
    return panels


def _points(series: list[float | None]) -> tuple[list[int], list[float]]:
    epochs, values = [], []
    for epoch, value in enumerate(series, start=1):
        if value is not None:
            epochs.append(epoch)
            values.append(float(value))
    return epochs, values


def terminal_plot(history: dict[str, Any], title: str, *, width: int | None = None,
                  height: int | None = None, color: bool = True) -> str:
    """The curves as text (plotext), side by side."""
    import plotext as plt

    from rnn_tui.terminal import escape

    panels = curve_panels(history)
    columns, rows = shutil.get_terminal_size((100, 30))
    plt.clear_figure()
    plt.subplots(1, len(panels))
    for index, (metric, names) in enumerate(panels, start=1):
        plt.subplot(1, index)
        # the metric names are the card's keys: escaped like every text from a file
        plt.title(escape(f"{title}: {metric}" if index == 1 else metric))
        for name in names:
            epochs, values = _points(history[name])
            plt.plot(epochs, values, label=escape(name), marker="dot")
        plt.xlabel("epoch")
    # The size of the whole figure (plt.plotsize alone sizes only the active panel).
    plt.main().plotsize(width or min(columns, 160), height or max(12, min(rows - 4, 24)))
    if not color:
        plt.theme("clear")
        return _ANSI.sub("", plt.build())
    return plt.build()


def save_png(history: dict[str, Any], title: str, path: Path) -> Path:
    """The tutorials' figure: loss and accuracy panels, train blue, validation orange."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    from matplotlib import pyplot

    from rnn_tui.fileio import atomic_path

    panels = curve_panels(history)
    figure = pyplot.figure(figsize=(5 * len(panels), 5))
    try:
        for index, (metric, names) in enumerate(panels, start=1):
            axes = figure.add_subplot(1, len(panels), index)
            for name in names:
                epochs, values = _points(history[name])
                axes.plot(epochs, values, color="orange" if name.startswith("val_") else "blue",
                          marker=".", label=name)
            axes.set_title(f"train and val {metric}")
            axes.set_xlabel("epochs")
            axes.set_ylabel(metric)
            axes.grid(True, alpha=0.3)
            axes.legend()
        figure.suptitle(title)
        figure.tight_layout()
        with atomic_path(path) as temp:
            figure.savefig(temp, format="png", dpi=100)
    finally:
        pyplot.close(figure)
    return path


@click.command("plot", context_settings=CONTEXT_SETTINGS)
@click.argument("model")
@click.option("--png", "png_path", type=click.Path(dir_okay=False),
              help="Also save the figure as a PNG file.")
@click.option("--no-terminal", is_flag=True, help="Only write the PNG.")
@click.option("--width", type=int, help="Terminal plot width in characters.")
@click.option("--height", type=int, help="Terminal plot height in lines.")
def plot(model: str, png_path: str | None, no_terminal: bool, width: int | None,
         height: int | None) -> None:
    """Plot MODEL's loss/val_loss and accuracy/val_accuracy per epoch (from its card).

    \b
      rnn-tui plot imdb-lstm
      rnn-tui plot nsmc-lstm@best --png nsmc.png
    """
    from rnn_tui.registry import open_registries

    version = open_registries().resolve(model)
    history = version.card.get("history") or {}
    if not any(history.values()):
        raise UserError(f"{version.ref} has no training history in its card")
    if no_terminal and not png_path:
        raise UserError("--no-terminal needs --png FILE")
    if not no_terminal:
        click.echo(terminal_plot(history, version.ref, width=width, height=height,
                                 color=sys.stdout.isatty()))
    if png_path:
        saved = save_png(history, version.ref, Path(png_path))
        click.echo(f"saved {saved}")
