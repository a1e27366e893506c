"""``rnn-tui summary MODEL``: the Keras-style layer table and the card, from the card alone.

No TensorFlow: the layer table (names, types, output shapes, parameter counts) was recorded
in the card when the model was published.
"""

from __future__ import annotations

import json
from typing import Any

import click

from rnn_tui.registry import open_registries
from rnn_tui.terminal import escape
from rnn_tui.views.card import card_sections, format_value, human_bytes, one_hot_note

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
def render_summary(version: Any, console: Any) -> None:
    from rich.table import Table

    from rnn_tui.terminal import rich_text

    card = version.card
    marks = " ".join([f"@{a}" for a in version.aliases] + (["@latest"] if version.is_latest
                                                            else []))
    console.print(f"[bold]{rich_text(version.ref)}[/bold]  {rich_text(marks)}", highlight=False,
                  soft_wrap=True)
    layers = card.get("layers") or []
    table = Table(title=None, show_lines=False, header_style="bold")
    table.add_column("Layer (type)")
    table.add_column("Output Shape")
    table.add_column("Param #", justify="right")
    for layer in layers:
        name = f"{layer.get('name')} ({layer.get('type')})"
        if layer.get("trainable") is False and layer.get("params"):
            name += " [frozen]"
        params = layer.get("params", 0)
        table.add_row(rich_text(name), rich_text(layer.get("output_shape", "?")),
                      f"{params:,}" if isinstance(params, int) else rich_text(params))
    if layers:
        console.print(table)
    params = card.get("params") or {}
    for label, key in (("Total params", "total"), ("Trainable params", "trainable"),
                       ("Non-trainable params", "non_trainable")):
        if key in params:
            console.print(f" {label}: {params[key]:,} ({human_bytes(params[key])})",
                          highlight=False)
    note = one_hot_note(layers, params)
    if note:
        console.print(note, style="dim", highlight=False, markup=False)
    for title, rows in card_sections(card):
        if not rows:
            continue
        # titles and keys of the metrics sections are the card's own
        console.print(f"\n[bold]{rich_text(title)}[/bold]")
        width = max(len(escape(str(key))) for key, _ in rows)
        for key, value in rows:
            console.print(f"  {escape(str(key)).ljust(width)}  {format_value(value)}",
                          highlight=False, markup=False)
    for note in card.get("notes") or []:
        console.print(f"  note: {escape(str(note))}", style="dim", highlight=False,
                      markup=False)


@click.command("summary", context_settings=CONTEXT_SETTINGS)
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="The card as JSON (layers included).")
def summary(model: str, as_json: bool) -> None:
    """Show MODEL's layers (as Keras' summary prints them) and its card.

    MODEL is NAME, NAME:VERSION or NAME@ALIAS. Reads the card only (fast, no TensorFlow).

    \b
      rnn-tui summary imdb-lstm
      rnn-tui summary tutorial-nsmc-lstm@best --json
    """
    version = open_registries().resolve(model)
    if as_json:
        click.echo(json.dumps({"ref": version.ref, "card": version.card}, ensure_ascii=False,
                              indent=2))
        return
    from rich.console import Console

    render_summary(version, Console())
