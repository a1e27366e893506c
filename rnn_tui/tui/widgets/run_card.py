"""One training run: epoch and batch progress, live metrics, loss and accuracy curves."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, ProgressBar, Static

from rnn_tui.tui.run_progress import (
    CANCELLED,
    CANCELLING,
    FAILED,
    FINISHED,
    QUEUED,
    RunProgress,
)
from rnn_tui.tui.verdicts import printable
from rnn_tui.tui.curves import CURVE_COLOURS, Curve, legend_text

WIDE_CARD = 44  # cells: room for a second y axis
STATUS_MARK = {QUEUED: "…", FINISHED: "✓", FAILED: "✗", CANCELLED: "■", CANCELLING: "■"}


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.3g}"


def _metric_line(label: str, names: list[str], values: dict[str, float]) -> Text:
    text = Text(label, style="dim")
    for name in names:
        if name in values:
            text.append(f" {name} ", style="dim")
            text.append(_number(values[name]))
    return text


def metrics_text(progress: RunProgress) -> Text:
    """Two lines: the running (or test) metrics, then validation (or what was published)."""
    loss_name, other = progress.metric_names()
    names = [loss_name] + ([other] if other else [])
    if progress.status == FINISHED:
        text = _metric_line("test", names, progress.test_metrics)
        text.append("\n")
        text.append(f"→ {progress.model_ref}" if progress.model_ref else "✓ done (not published)",
                    style="bold")
        return text
    if progress.done:
        return Text(printable(progress.message or progress.status),
                    style="bold" if progress.status == FAILED else "")
    if progress.status == QUEUED:
        return Text("waits for the run before it\n(one at a time: fair timings)", style="dim")
    if progress.epochs == 0:
        return Text("starting: loading data, building the model…", style="dim")
    text = _metric_line("now", names, progress.logs or progress.epoch_logs)
    text.append("\n")
    text.append_text(_metric_line("val", names, {
        name: progress.epoch_logs[f"val_{name}"] for name in names
        if f"val_{name}" in progress.epoch_logs}))
    return text


def curves_of(progress: RunProgress, metric: bool = True) -> tuple[Curve, ...]:
    """Loss (left axis) and, with ``metric``, the other metric (right axis); train and val."""
    loss_name, other = progress.metric_names()
    if not metric:
        other = None
    curves = []
    colours = iter(CURVE_COLOURS)
    for name, right, markers in ((loss_name, False, ("braille", "•")),
                                 (other, True, ("+", "x"))):
        for label, marker in ((name, markers[0]), (f"val_{name}", markers[1])):
            colour = next(colours)
            if name is not None and label in progress.history:
                curves.append(Curve(label, tuple(progress.history[label]), right, marker,
                                    colour))
    return tuple(curves)


class RunCard(Vertical):
    """Draws a ``RunProgress``; the pane calls ``show()`` after each event."""

    @dataclass
    class StopPressed(Message):
        """The card's Stop button was pressed."""

        run_id: str

    def __init__(self, run_id: str, progress: RunProgress, **kwargs) -> None:
        super().__init__(id=run_id, **kwargs)
        self.run_id = run_id
        self.progress = progress
        self._composed = False

    def compose(self) -> ComposeResult:
        # plotext is imported with the first card, not with the app (its first paint)
        from rnn_tui.tui.widgets.curve_plot import CurvePlot

        with Horizontal(classes="run-title-row"):
            yield Label(classes="run-title")
            yield Button("Stop", compact=True, classes="run-stop")
        with Horizontal(classes="run-bar-row"):
            yield Label("epoch", classes="run-bar-label")
            yield ProgressBar(show_eta=False, classes="run-epochs")
        with Horizontal(classes="run-bar-row"):
            yield Label("batch", classes="run-bar-label")
            yield ProgressBar(show_eta=False, classes="run-batches")
        yield Static(classes="run-metrics")
        yield Static(classes="run-legend")
        yield CurvePlot(classes="run-curves")

    def on_mount(self) -> None:
        self._composed = True
        self.show()

    def show(self) -> None:
        """Redraw everything from ``progress`` (before mounting, mounting will)."""
        if not self._composed:
            return
        progress = self.progress
        title = Text(f"{STATUS_MARK.get(progress.status, '▶')} ", style="bold")
        title.append(printable(progress.label), style="bold")
        title.append(f"  {progress.status}", style="dim")
        if progress.started is not None:
            title.append(f" {progress.elapsed:.0f}s", style="dim")
        if progress.device and progress.device != "CPU":  # say so when it is a GPU
            title.append(f" {printable(progress.device)}", style="dim")
        self.query_one(".run-title", Label).update(title)
        self.query_one(".run-stop", Button).display = not (progress.done
                                                           or progress.status == CANCELLING)
        self.set_class(progress.done, "-done")
        self.set_class(progress.status == FAILED, "-failed")

        # Until the engine says how long the run is, there is nothing to measure against
        # (an indeterminate bar would only animate).
        for row in self.query(".run-bar-row"):
            row.display = progress.epochs > 0
        if progress.epochs:
            self.query_one(".run-epochs", ProgressBar).update(total=progress.epochs,
                                                              progress=progress.epoch)
        if progress.steps:
            self.query_one(".run-batches", ProgressBar).update(total=progress.steps,
                                                               progress=progress.step)

        self.query_one(".run-metrics", Static).update(metrics_text(progress))

        # A narrow card (three side by side in 80 columns) has room for one axis: the loss.
        wide = self.content_size.width >= WIDE_CARD
        curves = curves_of(progress, metric=wide)
        self.query_one(".run-legend", Static).update(
            legend_text(curves, self.app.theme_variables))
        self.query_one(".run-curves").curves = curves  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        self.show()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.StopPressed(self.run_id))
