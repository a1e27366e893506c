"""``rnn-tui models``: list, show, remove, alias, tag, export and import registry models.

Everything here reads cards only; TensorFlow is imported solely by ``models import`` of a
.keras/.h5 file (which must load the model to describe it).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from rnn_tui.terminal import escape
from rnn_tui.errors import UserError
from rnn_tui.registry import (
    ModelRef,
    ModelSummary,
    ModelVersion,
    TASKS,
    main_metric,
    open_registries,
)
from rnn_tui.registry.archive import ARCHIVE_SUFFIXES

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group("models", context_settings=CONTEXT_SETTINGS)
def models() -> None:
    """List and manage the model registry.

    A model is referred to as NAME (its latest version), NAME:VERSION or NAME@ALIAS.
    Your models live under $RNN_TUI_HOME/models; the shipped ones are read-only.

    \b
      rnn-tui models list
      rnn-tui models show imdb-lstm@best
      rnn-tui models alias imdb-lstm best 3
      rnn-tui models import naver naver_review.h5 --vocabulary vocab.json --labels 부정,긍정
    """


# ---------------------------------------------------------------------------- formatting
def human_size(size: int) -> str:
    """``1234567`` -> ``"1.2 MB"``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def human_age(created: str, now: datetime | None = None) -> str:
    """How long ago an ISO time was: ``"5 s"``, ``"3 min"``, ``"2 h"``, ``"4 d"``."""
    try:
        moment = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return "?"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    seconds = ((now or datetime.now(timezone.utc)) - moment).total_seconds()
    if seconds < 1:
        return "now"
    for limit, divisor, unit in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h"),
                                 (86400 * 365, 86400, "d")):
        if seconds < limit:
            return f"{int(seconds // divisor)} {unit}"
    return f"{seconds / (86400 * 365):.1f} y"


def metric_text(metric: str | None, value: float | None) -> str:
    if metric is None or value is None:
        return "-"
    if metric in ("accuracy", "acc"):
        return f"{value:.1%}"
    return f"{metric} {value:.4g}"


def versions_text(summary: ModelSummary) -> str:
    versions = summary.versions
    if len(versions) == 1:
        return str(versions[0])
    return f"{summary.version} ({len(versions)}: {versions[0]}..{versions[-1]})"


def marks_text(summary: ModelSummary) -> str:
    aliases = [f"@{alias}={version}" for alias, version in sorted(summary.aliases.items())]
    tags = [f"#{tag}" for tag in summary.tags]
    return " ".join(aliases + tags) or "-"


LIST_COLUMNS = ("NAME", "VERSION", "TASK", "DATASET", "ACCURACY", "SIZE", "AGE", "SOURCE",
                "ALIASES/TAGS")


def list_rows(listing: list[ModelSummary]) -> list[tuple[str, ...]]:
    # the dataset name comes from the card, which an imported archive may have written
    return [(s.name, versions_text(s), s.task, escape(s.dataset or "-"),
             metric_text(s.metric, s.metric_value), human_size(s.size_bytes),
             human_age(s.created), s.source, marks_text(s)) for s in listing]


def plain_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Columns aligned with spaces: friendly to ``grep``, ``cut`` and pagers."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def echo_warnings(warnings) -> None:
    for warning in warnings:
        click.echo(f"rnn-tui: warning: {warning}", err=True)


# ---------------------------------------------------------------------------- list / show
@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document (models + warnings).")
def list_command(as_json: bool) -> None:
    """List every model: yours first, then the shipped ones."""
    listing = open_registries().list_models()
    if as_json:
        document = {"models": [summary.to_dict() for summary in listing],
                    "warnings": [{"path": str(w.path), "message": w.message}
                                 for w in listing.warnings]}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    echo_warnings(listing.warnings)
    if not listing:
        click.echo("no models yet: train one with `rnn-tui train` or import one with "
                   "`rnn-tui models import`")
        return
    rows = list_rows(listing)
    if not stdout_is_terminal():
        click.echo(plain_table(LIST_COLUMNS, rows))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in LIST_COLUMNS:
        table.add_column(column, justify="right" if column in ("ACCURACY", "SIZE", "AGE")
                         else "left", no_wrap=column == "NAME")
    from rich.markup import escape as escape_markup

    for row in rows:
        table.add_row(*(escape_markup(cell) for cell in row))
    Console().print(table)


def _section(title: str, rows: list[tuple[str, Any]]) -> list[str]:
    rows = [(key, value) for key, value in rows if value not in (None, "", [], {})]
    if not rows:
        return []
    width = max(len(key) for key, _ in rows)
    lines = ["", click.style(title, bold=True)]
    lines += [f"  {escape(key.ljust(width))}  {_plain(value)}" for key, value in rows]
    return lines


MAX_VALUE_CHARS = 160  # `models show --json` has the rest


def _plain(value: Any) -> str:
    """One card value on one line: scalars as is, flat lists/objects readable, deeper as JSON."""
    if isinstance(value, float):
        return f"{value:.4g}"
    nested = isinstance(value, (list, tuple, dict)) and any(
        isinstance(v, (list, tuple, dict))
        for v in (value.values() if isinstance(value, dict) else value))
    if nested:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_plain(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k}={_plain(v)}" for k, v in value.items())
    else:
        text = str(value)
    # Card values may come from an imported archive: no raw escape sequences to the terminal.
    text = escape(text)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def card_text(version: ModelVersion) -> str:
    """The card as readable text (what ``models show`` prints)."""
    card = version.card
    marks = [f"@{a}" for a in version.aliases] + (["@latest"] if version.is_latest else [])
    marks += [f"#{t}" for t in version.tags]
    lines = [click.style(f"{version.ref}", bold=True) + f"  ({version.source})  "
             + " ".join(marks)]
    metric = main_metric(card)
    lines += _section("Model", [
        ("task", card["task"]), ("labels", card.get("labels")),
        ("language", card.get("language")),
        ("created", f"{card['created']} ({human_age(card['created'])} ago)"),
        ("score", f"{metric_text(metric[0], metric[1])} on {metric[2]}" if metric else None),
        ("path", str(version.path)),
    ])
    sections = [("Input", card.get("input")), ("Dataset", card.get("dataset")),
                ("Vocabulary", card.get("vocabulary")), ("Architecture",
                                                        card.get("architecture")),
                ("Training", card.get("training")), ("Parameters", card.get("params")),
                ("Imported", card.get("imported"))]
    for title, data in sections:
        if isinstance(data, dict):
            lines += _section(title, [(k, v) for k, v in data.items()
                                      if not isinstance(v, dict) or v])
    notes = card.get("notes") or []
    if isinstance(notes, list) and notes:
        lines += ["", click.style("Notes", bold=True)] + [f"  - {escape(str(note))}"
                                                          for note in notes]
    for split, values in (card.get("metrics") or {}).items():
        lines += _section(f"Metrics ({split})", list(values.items()))
    history = card.get("history") or {}
    if history:
        lines += _section("History", [(k, f"{len(v)} epochs, last {_plain(v[-1])}")
                                      for k, v in history.items() if v])
    layers = card.get("layers") or []
    if layers:
        header = ("layer", "type", "output shape", "params")
        rows = [(escape(str(x.get("name", ""))), escape(str(x.get("type", ""))),
                 escape(str(x.get("output_shape") or "-")), _count(x.get("params", 0)))
                for x in layers]
        lines += ["", click.style("Layers", bold=True)]
        lines += ["  " + line for line in plain_table(header, rows).splitlines()]
    lines += _section("Files", [(name, f"{human_size(_size(version, name))}  sha256 "
                                       f"{digest[:16]}…")
                                for name, digest in card["files"].items()])
    lines += _section("Packages", list((card.get("packages") or {}).items()))
    return "\n".join(lines)


def _count(value: Any) -> str:
    """A layer's parameter count as ``1,234`` (whatever else a card holds, escaped)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return escape(str(value))


def _size(version: ModelVersion, name: str) -> int:
    try:
        return (version.path / name).stat().st_size
    except OSError:
        return 0


@models.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True,
              help="The card with its ref, source, path, aliases and tags.")
def show_command(ref: str, as_json: bool) -> None:
    """Show a model's card: task, data, training, metrics, layers, files."""
    version = open_registries().resolve(ref)
    if as_json:
        document = {"ref": version.ref, "source": version.source, "path": str(version.path),
                    "aliases": version.aliases, "tags": version.tags,
                    "is_latest": version.is_latest, "card": version.card}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    click.echo(card_text(version))


@models.command("verify")
@click.argument("ref")
def verify_command(ref: str) -> None:
    """Check a version's files against the sha256 sums in its card."""
    version = open_registries().resolve(ref)
    version.verify()
    click.echo(f"{version.ref}: {len(version.card['files'])} files match their card")


# ---------------------------------------------------------------------------- changes
def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserError(f"{question.rstrip('?')}: pass --yes to confirm without a terminal")
    click.confirm(question, abort=True)


@models.command("rm")
@click.argument("ref")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def rm_command(ref: str, yes: bool) -> None:
    """Remove a version (NAME:VERSION, NAME@ALIAS) or every version of NAME."""
    registries = open_registries()
    parsed = ModelRef.parse(ref)
    if parsed.is_plain_name:
        latest = registries.resolve(parsed)  # NotFoundError with suggestions if unknown
        versions = latest.registry.versions(parsed.name)
        _confirm(f"Remove all {len(versions)} version(s) of {parsed.name!r}?", yes)
        removed = registries.remove(parsed)
    else:
        version = registries.resolve(parsed)
        _confirm(f"Remove {version.ref}?", yes)
        removed = registries.remove(version.ref)  # the number, even if the alias moves
    for item in removed:
        click.echo(f"removed {item}")


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--remove", is_flag=True, help="Remove the alias instead.")
def alias_command(name: str, alias: str, version: str | None, remove: bool) -> None:
    """Point NAME@ALIAS at VERSION (or --remove it)."""
    registries = open_registries()
    if remove:
        registries.remove_alias(name, alias)
        click.echo(f"removed alias {name}@{alias}")
        return
    if version is None:
        raise UserError("give the VERSION the alias should point to (or --remove)")
    target = registries.set_alias(name, alias, version)
    click.echo(f"{name}@{alias} -> {target.ref}")


@models.command("tag")
@click.argument("ref")
@click.argument("tag")
@click.option("--remove", is_flag=True, help="Remove the tag instead.")
def tag_command(ref: str, tag: str, remove: bool) -> None:
    """Tag a version (or --remove the tag)."""
    registries = open_registries()
    version = registries.resolve(ref)
    if remove:
        registries.remove_tag(version.name, version.version, tag)
        click.echo(f"removed tag {tag!r} from {version.ref}")
    else:
        registries.add_tag(version.name, version.version, tag)
        click.echo(f"tagged {version.ref} {tag!r}")


@models.command("export")
@click.argument("ref")
@click.argument("path", type=click.Path(dir_okay=True, path_type=Path))
def export_command(ref: str, path: Path) -> None:
    """Write a version to a .tar.gz or .zip archive (or into a folder)."""
    written = open_registries().export(ref, path)
    click.echo(str(written))


@models.command("import")
@click.argument("name")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--vocabulary", type=click.Path(path_type=Path),
              help="The vocabulary the model was trained with (text models): rnn-tui's "
                   "vocabulary.json, Keras' Tokenizer.to_json() file, or a plain "
                   "{\"word\": id} index.")
@click.option("--oov-token", help="The OOV token of a plain word index (e.g. '<OOV>'); a "
              "Keras Tokenizer file names its own.")
@click.option("--labels", help="Class names, comma-separated, e.g. negative,positive.")
@click.option("--task", type=click.Choice(TASKS), help="Default: read from the output layer.")
@click.option("--language", help="The texts' language, e.g. en or ko.")
@click.option("--maxlen", type=click.IntRange(min=1),
              help="Padded text length, when the model does not fix it.")
@click.option("--padding", type=click.Choice(["pre", "post"]), default="pre",
              show_default=True, help="Where the training texts were padded.")
@click.option("--truncating", type=click.Choice(["pre", "post"]), default="pre",
              show_default=True, help="Where the training texts were cut.")
@click.option("--alias", "aliases", multiple=True, help="Alias the new version (repeatable).")
@click.option("--trust", is_flag=True,
              help="Allow Lambda layers (runs Python code stored in the file).")
def import_command(name: str, path: Path, vocabulary: Path | None, oov_token: str | None,
                   labels: str | None,
                   task: str | None, language: str | None, maxlen: int | None, padding: str,
                   truncating: str, aliases: tuple[str, ...], trust: bool) -> None:
    """Import a .keras or .h5 model, or an archive made by `models export`, as NAME."""
    registries = open_registries()
    if path.name.lower().endswith(ARCHIVE_SUFFIXES):
        given = [option for option, value in (("--vocabulary", vocabulary),
                                              ("--oov-token", oov_token), ("--labels", labels),
                                              ("--task", task), ("--language", language),
                                              ("--maxlen", maxlen), ("--trust", trust))
                 if value]
        if given:
            raise UserError(f"{', '.join(given)}: not used with an archive (its card says it)")
        version = registries.import_archive(path, name, aliases=aliases)
    else:
        label_list = [x.strip() for x in labels.split(",")] if labels else None
        if label_list is not None and not all(label_list):
            raise UserError(f"--labels {labels!r} has an empty label")
        from rnn_tui.infer.importing import import_keras

        version = import_keras(
            registries.user, name, path, vocabulary, task=task, labels=label_list, language=language,
            maxlen=maxlen, padding=padding, truncating=truncating, trust=trust,
            aliases=aliases, oov_token=oov_token)
    card = version.card
    # The labels and notes come from the imported file: escaped like every card text.
    labels = ", ".join(escape(str(label)) for label in card.get("labels") or []) or "-"
    click.echo(f"imported {version.ref} ({card['task']}, labels: {labels})")
    # Without a runtime the notes say why (a Keras import writes one then); a card's other
    # notes (an archive's training notes) are no reason predict could not use the model.
    if not version.has_file("runtime.npz"):
        for note in card.get("notes") or []:
            click.echo(f"rnn-tui: warning: {escape(str(note))}: `predict` and the app cannot "
                       "use this model", err=True)
    if (card.get("input") or {}).get("kind") == "text" and not version.has_file(
            "vocabulary.json"):
        click.echo("rnn-tui: warning: no vocabulary: texts cannot be turned into ids for this "
                   "model; import it again with --vocabulary", err=True)
