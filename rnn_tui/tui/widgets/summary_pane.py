"""The Summary pane: a model's Keras-style layer table and its card, read from card.json."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from rnn_tui.tui.verdicts import printable


def _plain(value: Any) -> Text:
    return Text(printable(str(value)))


def layer_table(card: dict[str, Any]) -> Table:
    """``Layer (type) | Output Shape | Param #`` with the totals below, as Keras prints it."""
    table = Table(title=None, expand=False, show_edge=False, pad_edge=False, box=None,
                  header_style="bold", show_footer=False)
    table.add_column("Layer (type)", no_wrap=True, overflow="ellipsis")
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True)
    for layer in card.get("layers") or []:
        name = f"{layer.get('name', '?')} ({layer.get('type', '?')})"
        style = "" if layer.get("trainable", True) else "dim"
        table.add_row(_plain(name), _plain(layer.get("output_shape", "?")),
                      Text(f"{int(layer.get('params', 0)):,}"), style=style)
    return table


def _facts(rows: list[tuple[str, Any]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in rows:
        if value not in (None, "", [], {}):
            grid.add_row(key, _plain(value))
    return grid


def _metric_text(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                     for key, value in metrics.items())


def card_view(ref: str, card: dict[str, Any]) -> RenderableType:
    """Everything the card says, in reading order: what it is, its layers, how it was made."""
    title = Text(printable(ref), style="bold underline")
    dataset = card.get("dataset") or {}
    architecture = card.get("architecture") or {}
    training = card.get("training") or {}
    vocabulary = card.get("vocabulary") or {}
    input_spec = card.get("input") or {}
    params = card.get("params") or {}
    labels = card.get("labels") or []
    shown_labels = ", ".join(map(str, labels[:8])) + (" …" if len(labels) > 8 else "")
    about = _facts([
        ("task", f"{card.get('task')} ({len(labels)} classes)" if labels else card.get("task")),
        ("labels", shown_labels),
        ("language", card.get("language")),
        ("architecture", " ".join(str(part) for part in (architecture.get("arch"),
                                                          architecture.get("preset")) if part)),
        ("input", ", ".join(f"{key} {value}" for key, value in input_spec.items())),
        ("vocabulary", ", ".join(f"{key} {vocabulary[key]}" for key in ("level", "size")
                                 if key in vocabulary)),
        ("created", card.get("created")),
    ])
    totals = Text(
        f"Total params: {int(params.get('total', 0)):,}\n"
        f"Trainable params: {int(params.get('trainable', 0)):,}\n"
        f"Non-trainable params: {int(params.get('non_trainable', 0)):,}")
    metrics = card.get("metrics") or {}
    history = card.get("history") or {}
    made = _facts([
        ("dataset", ", ".join(f"{key} {value}" for key, value in dataset.items()
                              if not isinstance(value, dict | list))),
        ("training", ", ".join(f"{key} {training[key]}" for key in (
            "optimizer", "learning_rate", "batch_size", "epochs", "epochs_run", "seed",
            "device") if key in training)),
        ("duration", f"{training['duration_s']:.1f} s" if isinstance(
            training.get("duration_s"), int | float) else None),
        *[(f"{split} metrics", _metric_text(values)) for split, values in metrics.items()
          if isinstance(values, dict)],
        ("epochs of history", len(history.get("loss") or []) or None),
    ])
    layers: RenderableType = layer_table(card) if card.get("layers") else Text(
        "(the card lists no layers)", style="dim")
    return Group(title, about, Text(""), layers, totals, Text(""), made)


class SummaryPane(VerticalScroll, can_focus=True):
    """Shows one model's card; the app sets ``ref`` and ``card`` (or ``message``)."""

    ref: reactive[str] = reactive("")
    card: reactive[dict[str, Any] | None] = reactive(None, always_update=True)
    message: reactive[str] = reactive(
        "No model chosen yet: /summary MODEL, or pick one in the sidebar.")

    def compose(self) -> ComposeResult:
        yield Static(id="summary-body")

    def _show(self) -> None:
        if not self.is_mounted:
            return
        body = self.query_one("#summary-body", Static)
        if self.card is not None:
            body.update(card_view(self.ref, self.card))
        else:
            body.update(Text(printable(self.message), style="italic"))

    def watch_card(self) -> None:
        self._show()

    def watch_message(self) -> None:
        self._show()

    def on_mount(self) -> None:
        self._show()
