"""One training run: epoch and batch progress, live metrics, loss and accuracy curves."""

from __future__ import annotations

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
from rnn_tui.tui.widgets.curve_plot import CurvePlot

STATUS_MARK = {QUEUED: "…", FINISHED: "✓", FAILED: "✗", CANCELLED: "■", CANCELLING: "■"}


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.3g}"


def metrics_text(progress: RunProgress) -> Text:
    """The latest metrics: running ones during an epoch, then the last epoch's with val_*."""
    text = Text()
    loss_name, other = progress.metric_names()
    names = [loss_name] + ([other] if other else [])
    current = progress.logs or progress.epoch_logs
    for name in names:
        if name in current:
            text.append(f"{name} ", style="dim")
            text.append(_number(current[name]) + "  ")
    text.append("\n")
    for name in names:
        value = progress.epoch_logs.get(f"val_{name}")
        if value is not None:
            text.append(f"val_{name} ", style="dim")
            text.append(_number(value) + "  ")
    return text


class RunCard(Vertical):
    """Draws a ``RunProgress``; the pane calls ``show()`` after each event."""

    class StopPressed(Message):
        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(self, run_id: str, progress: RunProgress, **kwargs) -> None:
        super().__init__(id=run_id, **kwargs)
        self.run_id = run_id
        self.progress = progress

    def compose(self) -> ComposeResult:
        with Horizontal(classes="run-title-row"):
            yield Label(classes="run-title")
            yield Button("Stop", compact=True, classes="run-stop")
        with Horizontal(classes="run-bar-row"):
            yield Label("epoch", classes="run-bar-label")
            yield ProgressBar(show_eta=False, classes="run-epochs")
        with Horizontal(classes="run-bar-row"):
            yield Label("batch", classes="run-bar-label")
            yield ProgressBar(show_eta=True, classes="run-batches")
        yield Static(classes="run-metrics")
        yield CurvePlot(classes="run-loss")
        yield CurvePlot(classes="run-metric")

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        """Redraw everything from ``progress``."""
        progress = self.progress
        title = Text(f"{STATUS_MARK.get(progress.status, '▶')} ", style="bold")
        title.append(printable(progress.label), style="bold")
        title.append(f"  {progress.status}", style="dim")
        if progress.started is not None:
            title.append(f" {progress.elapsed:.0f}s", style="dim")
        self.query_one(".run-title", Label).update(title)
        self.query_one(".run-stop", Button).display = not progress.done
        self.set_class(progress.done, "-done")
        self.set_class(progress.status == FAILED, "-failed")

        epochs = self.query_one(".run-epochs", ProgressBar)
        if progress.epochs:
            epochs.update(total=progress.epochs, progress=progress.epoch)
        batches = self.query_one(".run-batches", ProgressBar)
        if progress.steps:
            batches.update(total=progress.steps, progress=progress.step)

        body = metrics_text(progress)
        if progress.done:
            body.append(self._outcome(progress))
        elif progress.notes:
            body.append(printable(progress.notes[-1]), style="dim italic")
        self.query_one(".run-metrics", Static).update(body)

        loss_name, other = progress.metric_names()
        self._plot(".run-loss", loss_name)
        if other:
            self._plot(".run-metric", other)
        self.query_one(".run-metric").display = other is not None

    def _plot(self, selector: str, metric: str) -> None:
        plot = self.query_one(selector, CurvePlot)
        series = {"train": self.progress.history.get(metric, [])}
        if f"val_{metric}" in self.progress.history:
            series["validation"] = self.progress.history[f"val_{metric}"]
        if series != plot.series or plot.title != metric:
            plot.title = metric
            plot.series = series

    @staticmethod
    def _outcome(progress: RunProgress) -> Text:
        if progress.status == FINISHED:
            text = Text(f"✓ published {progress.model_ref}" if progress.model_ref
                        else "✓ finished", style="bold green")
            if progress.test_metrics:
                shown = "  ".join(f"{key} {_number(value)}"
                                  for key, value in progress.test_metrics.items())
                text.append(f"\ntest: {shown}")
            return text
        style = "bold red" if progress.status == FAILED else "bold yellow"
        return Text(printable(progress.message or progress.status), style=style)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.StopPressed(self.run_id))
