"""``rnn-tui data``: list, fetch, import and inspect corpora.

Thin: parse options, call ``rnn_tui.data`` (store, loaders, stats), render with rich (plain
text when stdout is not a terminal, JSON with ``--json``). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from rnn_tui.errors import UserError

DATA_HOME_OPTION = click.option(
    "--data-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding the corpora (default: $RNN_TUI_DATA, else the user data folder).",
)


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def data() -> None:
    """List, fetch, import and inspect corpora.

    \b
      rnn-tui data list
      rnn-tui data fetch nsmc
      rnn-tui data import imdb ~/Downloads/aclImdb_v1.tar.gz
      rnn-tui data show reuters --split modapte
      rnn-tui data show reviews.csv --text-col review --label-col stars
    """


# ---------------------------------------------------------------------------- list
@data.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@DATA_HOME_OPTION
def list_command(as_json: bool, data_home: Path | None) -> None:
    """Every corpus: present or not, where, which form, size on disk."""
    from rnn_tui.data import store

    home = store.resolve_home(data_home)
    statuses = store.survey(home)
    rows = []
    for status in statuses:
        info, presence = status.info, status.presence
        if info.synthetic:
            state = "generated"
        elif presence:
            state = "present"
        elif status.partial:
            state = "partial"
        else:
            state = "absent"
        rows.append({
            "name": info.name,
            "title": info.title,
            "task": info.task,
            "language": info.language,
            "state": state,
            "present": presence is not None,
            "form": presence.form.name if presence else None,
            "paths": [str(p) for p in presence.paths] if presence else [],
            "size_bytes": presence.size_bytes if presence and not info.synthetic else None,
            "missing": [m for _, missing in status.partial for m in missing],
            "synthetic": info.synthetic,
        })
    if as_json:
        _echo_json({"data_home": str(home), "corpora": rows})
        return
    if not sys.stdout.isatty():
        click.echo(f"# data home: {home}")
        for row in rows:
            where = ", ".join(_short(Path(p), home) for p in row["paths"][:2])
            click.echo("\t".join([
                row["name"], row["state"], row["form"] or "", _human_size(row["size_bytes"]),
                where, row["task"], row["language"] or "",
            ]))
        return
    from rich.table import Table

    table = Table(title=f"Corpora in {home}", title_justify="left")
    for column in ("name", "state", "form", "size", "task", "lang"):
        table.add_column(column, no_wrap=True, justify="right" if column == "size" else "left")
    table.add_column("where", overflow="fold")
    style = {"present": "green", "generated": "cyan", "partial": "yellow", "absent": "dim"}
    for row in rows:
        shown = [_short(Path(p), home) for p in row["paths"][:2]]
        where = "\n".join(shown) + ("\n…" if len(row["paths"]) > 2 else "")
        if row["state"] == "partial":
            where = "missing " + ", ".join(row["missing"])
        table.add_row(
            row["name"], f"[{style[row['state']]}]{row['state']}[/]", row["form"] or "",
            _human_size(row["size_bytes"]), row["task"], row["language"] or "", where,
        )
    console = _console()
    console.print(table)
    absent = [r["name"] for r in rows if r["state"] in ("absent", "partial")]
    if absent:
        console.print(
            f"[dim]Get a missing corpus with `rnn-tui data fetch NAME` or "
            f"`rnn-tui data import NAME PATH` ({', '.join(absent)}).[/]"
        )


def _short(path: Path, home: Path) -> str:
    try:
        return str(path.relative_to(home))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------- fetch / import
@data.command("fetch")
@click.argument("name")
@click.option("--force", is_flag=True, help="Download again even if the files are present.")
@click.option("--form", "kind", default=None,
              help="Which form to download (e.g. npz for Keras' files).")
@DATA_HOME_OPTION
def fetch_command(name: str, force: bool, kind: str | None, data_home: Path | None) -> None:
    """Download a corpus from its publisher, verify it, store it atomically."""
    from rnn_tui.data import catalog, store

    info = catalog.get(name)
    home = store.resolve_home(data_home)
    console = _console(stderr=True)
    before = {d.target: (home / d.target).exists() for ds in info.downloads.values() for d in ds}
    placed = store.fetch(name, kind=kind, force=force, data_home=home, console=console)
    for path in placed:
        relative = _short(path, home)
        kept = before.get(relative) and not force
        verb = "already present" if kept else "downloaded"
        click.echo(f"{verb}: {path} ({_human_size(path.stat().st_size)})")
    if info.checksum_note:
        click.echo(info.checksum_note)


@data.command("import")
@click.argument("name")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace files already in the data home.")
@DATA_HOME_OPTION
def import_command(name: str, path: Path, force: bool, data_home: Path | None) -> None:
    """Copy a corpus file or folder you already have into the data home, after checking it."""
    from rnn_tui.data import store

    for target in store.import_(name, path, force=force, data_home=data_home):
        click.echo(f"imported: {target}")


# ---------------------------------------------------------------------------- show
def _parse_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--option expects KEY=VALUE, not {pair!r}")
        options[key.strip().replace("-", "_")] = _parse_value(value.strip())
    return options


@data.command("show")
@click.argument("name")
@click.option("--split", default=None, help="reuters: keras (default) or modapte.")
@click.option("--form", default=None, help="Which form to read (e.g. raw, npz, sgml).")
@click.option("--text-col", default=None, help="Your own file: the text column.")
@click.option("--label-col", default=None, help="Your own file: the label column.")
@click.option("-o", "--option", "extra", multiple=True, metavar="KEY=VALUE",
              help="Any other loader option, e.g. -o seed=1 -o keep_empty=true.")
@click.option("--examples", "-n", default=3, show_default=True, type=click.IntRange(0, 100),
              help="How many examples to print.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--csv", "csv_path", default=None, metavar="PATH",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="corrections:MODEL only: write them as CSV to PATH ('-' for stdout).")
@DATA_HOME_OPTION
def show_command(
    name: str,
    split: str | None,
    form: str | None,
    text_col: str | None,
    label_col: str | None,
    extra: tuple[str, ...],
    examples: int,
    as_json: bool,
    csv_path: str | None,
    data_home: Path | None,
) -> None:
    """Counts per split and label, balance, text lengths with a histogram, and examples.

    ``corrections:MODEL`` shows the corrections made to MODEL's verdicts (``rnn-tui predict
    --label``, the app's correction key), which ``rnn-tui teach MODEL`` learns from.
    """
    if name.startswith(CORRECTIONS_PREFIX):
        _show_corrections(name[len(CORRECTIONS_PREFIX):], as_json, csv_path)
        return
    if csv_path is not None:
        raise click.UsageError("--csv exports corrections: give corrections:MODEL")
    from rnn_tui.data import load_corpus, stats

    options = _parse_options(extra)
    for key, value in (("split", split), ("form", form), ("text_col", text_col),
                       ("label_col", label_col), ("data_home", data_home)):
        if value is not None:
            options[key] = value
    corpus = load_corpus(name, **options)
    summary = stats.describe(corpus, examples=examples)
    if as_json:
        _echo_json(summary.to_dict())
        return
    _render_summary(summary)


CORRECTIONS_PREFIX = "corrections:"


def _show_corrections(model: str, as_json: bool, csv_path: str | None) -> None:
    """The corrections file of a model name: a table, JSON or CSV; unreadable lines are
    named on stderr (exit code 2) and the rest shown."""
    from rnn_tui.teach.corrections import Corrections, write_csv
    from rnn_tui.terminal import escape
    from rnn_tui.terminal import rich_text as safe

    name = model.split("@")[0].split(":")[0]  # corrections belong to the name
    store = Corrections.for_model(name)
    found = store.read()
    corrections = found.corrections
    if csv_path == "-":
        write_csv(corrections, sys.stdout)
    elif csv_path is not None:
        from rnn_tui.fileio import atomic_path

        try:
            with atomic_path(Path(csv_path)) as temp, \
                    open(temp, "w", encoding="utf-8", newline="") as handle:
                write_csv(corrections, handle)
        except OSError as error:
            raise UserError(f"cannot write {csv_path}: {error.strerror or error}") from None
        click.echo(f"{len(corrections)} correction(s) written to {escape(csv_path)}", err=True)
    elif as_json:
        _echo_json({"model": name, "file": str(store.path),
                    "corrections": [c.to_dict() for c in corrections],
                    "problems": [str(problem) for problem in found.problems]})
    else:
        from rich.table import Table

        console = _console()
        if not corrections:
            console.print(f"no corrections for {safe(name)} yet ({safe(str(store.path))}): "
                          "mark a verdict wrong in the app, or `rnn-tui predict -m "
                          f"{safe(name)} TEXT --label LABEL`")
        else:
            table = Table(title=f"Corrections of {safe(name)} ({len(corrections)})",
                          title_justify="left")
            table.add_column("#", justify="right")
            table.add_column("text", overflow="fold", min_width=30, ratio=1)
            for column in ("label", "was", "model", "time"):
                table.add_column(column, no_wrap=True)
            for number, correction in enumerate(corrections, start=1):
                text = " ".join(correction.text.split())
                table.add_row(str(number), safe(text[:200]) + ("…" if len(text) > 200 else ""),
                              safe(correction.label), safe(correction.was or "-"),
                              safe(correction.model), safe(correction.time[:16]))
            console.print(table)
    for problem in found.problems:
        click.echo(f"rnn-tui: {escape(str(problem))}", err=True)
    if found.problems:
        sys.exit(2)


def _render_summary(summary) -> None:
    """Print the report of a corpus (``rnn_tui.views.corpus``, as the app draws it too)."""
    from rnn_tui.views.corpus import corpus_report

    console = _console()
    for part in corpus_report(summary):
        console.print(part)
