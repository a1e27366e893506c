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


def _count(value: Any) -> Text:
    return Text(f"{value:,}") if isinstance(value, int) else _plain(value)


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
                      _count(layer.get("params", 0)), style=style)
    return table


def card_view(ref: str, card: dict[str, Any]) -> RenderableType:
    """The layer table, the parameter counts and the card's sections, as ``rnn-tui summary``
    shows them (the sections come from the CLI's ``card_sections``, so both agree)."""
    from rnn_tui.cli.summary import format_value
    from rnn_tui.cli.summary import card_sections, human_bytes

    parts: list[RenderableType] = [Text(printable(ref), style="bold underline")]
    if card.get("layers"):
        parts.append(layer_table(card))
    params = card.get("params") or {}
    for label, key in (("Total params", "total"), ("Trainable params", "trainable"),
                       ("Non-trainable params", "non_trainable")):
        if key in params:
            parts.append(Text(f"{label}: {params[key]:,} ({human_bytes(params[key])})"))
    for title, rows in card_sections(card):
        if not rows:
            continue
        parts.append(Text(f"\n{printable(title)}", style="bold"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column()
        for key, value in rows:
            grid.add_row(_plain(key), _plain(format_value(value)))  # metric names: the card's
        parts.append(grid)
    for note in card.get("notes") or []:
        parts.append(Text(f"note: {printable(str(note))}", style="dim"))
    return Group(*parts)


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
