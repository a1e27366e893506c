"""The Summary pane: a model's Keras-style layer table and its card, read from card.json."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from rnn_tui.tui.verdicts import printable


NAME_CELLS = 16  # a layer name keeps at least this much of itself in a narrow pane
SHAPE_CELLS = 18  # and an output shape this much


def _plain(value: Any) -> Text:
    return Text(printable(str(value)))


def _count(value: Any) -> str:
    """A parameter count with thousands separators; a card's odd value shown as it is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) \
        else printable(str(value))


def layer_table(card: dict[str, Any], width: int | None = None) -> Table:
    """``Layer (type) | Output Shape | Param #`` with the totals below, as Keras prints it.

    In ``width`` cells, the names give way first (down to NAME_CELLS), then long shapes
    (down to SHAPE_CELLS); the counts are never cut.
    """
    layers = card.get("layers") or []
    names = [printable(f"{layer.get('name', '?')} ({layer.get('type', '?')})")
             for layer in layers]
    shapes = [printable(str(layer.get("output_shape", "?"))) for layer in layers]
    counts = [_count(layer.get("params", 0)) for layer in layers]
    name_cells = max(map(cell_len, ["Layer (type)", *names]))
    shape_cells = max(map(cell_len, ["Output Shape", *shapes]))
    count_cells = max(map(len, ["Param #", *counts]))
    if width is not None:
        room = width - count_cells - 4  # two gaps of two cells
        name_cells = min(name_cells, max(NAME_CELLS, room - shape_cells))
        shape_cells = min(shape_cells, max(SHAPE_CELLS, room - name_cells))
    table = Table(title=None, expand=False, show_edge=False, pad_edge=False, box=None,
                  header_style="bold", show_footer=False)
    table.add_column("Layer (type)", no_wrap=True, overflow="ellipsis", width=name_cells)
    table.add_column("Output Shape", no_wrap=True, overflow="ellipsis", width=shape_cells)
    table.add_column("Param #", justify="right", no_wrap=True, width=count_cells)
    for layer, name, shape, count in zip(layers, names, shapes, counts):
        style = "" if layer.get("trainable", True) else "dim"
        table.add_row(Text(name), Text(shape), Text(count), style=style)
    return table


def card_view(ref: str, card: dict[str, Any], width: int | None = None) -> RenderableType:
    """The layer table, the parameter counts and the card's sections, as ``rnn-tui summary``
    shows them (the sections come from ``rnn_tui.views.card``, as the CLI's do)."""
    from rnn_tui.views.card import card_sections, format_value, human_bytes

    parts: list[RenderableType] = [Text(printable(ref), style="bold underline")]
    if card.get("layers"):
        parts.append(layer_table(card, width))
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
        "No model shown yet. /summary MODEL shows a model's layers and card (/summary "
        "alone: the active sentiment model); Enter on a model in the list (Ctrl+B) does "
        "too. No model anywhere yet? /train --preset imdb-sentiment trains one "
        "(/help train).")

    def compose(self) -> ComposeResult:
        # Drawn with its content: on_mount comes too early for query_one to find it
        yield Static(self._content(), id="summary-body")

    def _content(self) -> RenderableType:
        if self.card is not None:
            width = self.scrollable_content_region.width - 1  # a vertical scrollbar may come
            return card_view(self.ref, self.card, width if width > 20 else None)
        return Text(printable(self.message), style="italic")

    def _show(self) -> None:
        bodies = self.query("#summary-body")
        if bodies:
            bodies.first(Static).update(self._content())

    def on_resize(self) -> None:
        self._show()

    def watch_card(self) -> None:
        self._show()

    def watch_message(self) -> None:
        self._show()

