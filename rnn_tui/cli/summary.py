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

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
BYTES_PER_PARAM = 4  # float32, as Keras' summary counts them


def human_bytes(params: int) -> str:
    """Keras' way: ``(361.25 KB)`` for the float32 size of N parameters."""
    size = float(params * BYTES_PER_PARAM)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def format_value(value: Any) -> str:
    """One card value as the summary shows it (the TUI's summary pane uses it too).

    Cards may come from an imported archive: every text in the result is escaped.

    >>> format_value(["neg\x1b[2J", "pos"])
    'neg␛[2J, pos'
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{escape(str(k))}={format_value(v)}" for k, v in value.items()
                         if v not in (None, ""))
    return escape(str(value))


def card_sections(card: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """(title, rows) of the card's readable parts: dataset, preprocessing, hyperparameters,
    metrics, training."""
    dataset = card.get("dataset") or {}
    model_input = card.get("input") or {}
    vocabulary = card.get("vocabulary") or {}
    architecture = card.get("architecture") or {}
    training = card.get("training") or {}
    early = training.get("early_stopping") or {}
    sections = [
        ("Model", [("task", card.get("task")), ("labels", card.get("labels")),
                   ("language", card.get("language")), ("created", card.get("created"))]),
        ("Dataset", [("name", dataset.get("name")), ("form", dataset.get("form")),
                     ("options", dataset.get("options") or None),
                     ("train rows", dataset.get("train_size")),
                     ("validation rows", dataset.get("validation_size")),
                     ("validation", dataset.get("validation")),
                     ("test rows", dataset.get("test_size"))]),
        ("Preprocessing", [
            ("input", model_input.get("kind")),
            ("level", vocabulary.get("level")), ("cleaner", vocabulary.get("cleaner")),
            ("num_words", vocabulary.get("num_words")),
            ("vocabulary size", vocabulary.get("size")),
            ("oov token", vocabulary.get("oov_token")),
            ("max token chars", vocabulary.get("max_token_chars")),
            ("maxlen", model_input.get("maxlen")), ("padding", model_input.get("padding")),
            ("truncating", model_input.get("truncating")),
            ("timesteps", model_input.get("timesteps")),
            ("channels", model_input.get("channels"))]),
        ("Hyperparameters", [
            ("architecture", architecture.get("compact") or architecture.get("arch")),
            ("named", architecture.get("arch")), ("preset", architecture.get("preset")),
            ("mask_zero", architecture.get("mask_zero")),
            ("pretrained vectors", (architecture.get("vectors") or {}).get("path")),
            ("vector coverage", (architecture.get("vectors") or {}).get("coverage")),
            ("optimizer", training.get("optimizer")),
            ("learning rate", training.get("learning_rate")),
            ("clipnorm", training.get("clipnorm")), ("loss", training.get("loss")),
            ("batch size", training.get("batch_size")),
            ("epochs", f"{training.get('epochs_run')} of {training.get('epochs')}"
             if training.get("epochs") else None),
            ("early stopping", f"patience {early.get('patience')}, best epoch "
             f"{early.get('best_epoch')}" + (", stopped early" if early.get("stopped_early")
                                              else "") if early else None),
            ("seed", training.get("seed"))]),
    ]
    for split, values in (card.get("metrics") or {}).items():
        if values:
            sections.append((f"Metrics ({split})", list(values.items())))
    sections.append(("Training", [
        ("device", training.get("device")), ("started", training.get("started")),
        ("finished", training.get("finished")), ("duration (s)", training.get("duration_s")),
        ("seconds per epoch", _mean(training.get("epoch_seconds"))),
        ("sessions", training.get("sessions"))]))
    sections.append(("Prediction runtime", runtime_rows(card.get("runtime"))))
    return [(title, [(k, v) for k, v in rows if v not in (None, "", [], {})])
            for title, rows in sections]


def runtime_rows(runtime: Any) -> list[tuple[str, Any]]:
    """What the card says of the TensorFlow-free runtime: its weights, how it answers a
    live input (streaming or recomputing, and why) and how closely it matched Keras.

    >>> rows = runtime_rows({"engine": "numpy", "dtype": "float16", "size_bytes": 5827035,
    ...                      "streamable": False, "streaming": "Conv1D: recomputes"})
    >>> rows[1:3]
    [('weights', 'float16, 5.8 MB'), ('as you type', 'Conv1D: recomputes (compiled loops)')]
    """
    if not isinstance(runtime, dict):
        return []
    size = runtime.get("size_bytes")
    weights = ", ".join(part for part in (
        runtime.get("dtype"), f"{size / 1e6:.1f} MB" if isinstance(size, int) else None)
        if part)
    typing = runtime.get("streaming")
    if typing and runtime.get("streamable") is False:
        typing = f"{typing} (compiled loops)"
    check = runtime.get("check") if isinstance(runtime.get("check"), dict) else {}
    checked = None
    if isinstance(check.get("rows"), int) and isinstance(check.get("agreement"), float):
        checked = (f"{check['rows']:,} {check.get('split', 'test')} rows: the same class on "
                   f"{check['agreement']:.3%}")
        if isinstance(check.get("max_abs_difference"), float):
            checked += f", probabilities within {check['max_abs_difference']:.1e}"
    return [("engine", runtime.get("engine")), ("weights", weights or None),
            ("as you type", typing), ("against Keras", checked)]


def one_hot_note(layers: list[dict[str, Any]], params: dict[str, Any]) -> str | None:
    """Why a one-hot model counts more parameters than the tutorial that it follows.

    The tutorials one-hot encode before the model (``to_categorical``), so their summary
    counts the recurrent layers only; here the encoding is a frozen identity Embedding
    inside the model (one graph for Keras and the runtime), whose matrix Keras counts.
    """
    frozen = sum(int(layer.get("params") or 0) for layer in layers
                 if layer.get("name") == "one_hot" and layer.get("trainable") is False)
    total = params.get("total")
    if not frozen or not isinstance(total, int):
        return None
    return (f" one_hot: the one-hot encoding as a frozen identity Embedding ({frozen:,} "
            f"fixed 0/1 entries, never trained); a tutorial that encodes with to_categorical "
            f"before the model counts {total - frozen:,} params")


def _mean(values: list[float] | None) -> float | None:
    return sum(values) / len(values) if values else None


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
