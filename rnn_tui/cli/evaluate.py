"""``rnn-tui evaluate MODEL``: loss, accuracy, per-class precision/recall/F1 and confusions.

The one inspecting command that imports TensorFlow (it runs the Keras model).
"""

from __future__ import annotations

import json
from typing import Any

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Up to this many classes the whole confusion matrix is shown; beyond, the top confusions.
FULL_MATRIX_MAX_CLASSES = 10


def render_report(report: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    # labels come from the card and the corpus: control characters and markup escaped
    from rnn_tui.terminal import rich_text as escape

    console.print(f"[bold]{escape(report['ref'])}[/bold] on {escape(str(report['dataset']))} "
                  f"{report['split']} ({report['rows']:,} rows)", highlight=False,
                  soft_wrap=True)
    if report["task"] == "regression":
        for key in ("loss", "mae", "rmse", "r2"):
            if report.get(key) is not None:
                console.print(f"  {key:<5} {report[key]:.4f}", highlight=False)
        return
    console.print(f"  loss      {report['loss']:.4f}", highlight=False)
    console.print(f"  accuracy  {report['accuracy']:.4f} ({report['accuracy']:.1%})",
                  highlight=False)
    table = Table("class", "precision", "recall", "f1", "support", header_style="bold")
    for column in table.columns[1:]:
        column.justify = "right"
    for row in report["per_class"]:
        table.add_row(escape(row["label"]), f"{row['precision']:.3f}", f"{row['recall']:.3f}",
                      f"{row['f1']:.3f}", f"{row['support']:,}")
    for average in ("macro", "weighted"):
        values = report[average]
        table.add_row(f"[dim]{average} avg[/dim]", f"{values['precision']:.3f}",
                      f"{values['recall']:.3f}", f"{values['f1']:.3f}",
                      f"{report['samples']:,}")
    console.print(table)
    absent = report.get("absent") or []
    if absent:
        shown = ", ".join(escape(label) for label in absent[:8])
        more = f" and {len(absent) - 8} more" if len(absent) > 8 else ""
        console.print(f"[dim]{len(absent)} class{'es' if len(absent) != 1 else ''} with no "
                      f"rows and no predictions left out of the rows and the macro average "
                      f"(as scikit-learn does): {shown}{more}[/dim]", highlight=False)
    labels = report["labels"]
    if len(labels) <= FULL_MATRIX_MAX_CLASSES:
        matrix = Table(title="confusion matrix (rows: true, columns: predicted)",
                       header_style="bold")
        matrix.add_column("")
        for label in labels:
            matrix.add_column(escape(label), justify="right")
        for label, counts in zip(labels, report["confusion_matrix"]):
            matrix.add_row(escape(label), *(f"{count:,}" for count in counts))
        console.print(matrix)
    else:
        confusions = Table("true", "predicted as", "count",
                           title=f"largest confusions (top {len(report['top_confusions'])})",
                           header_style="bold")
        confusions.columns[2].justify = "right"
        for item in report["top_confusions"]:
            confusions.add_row(escape(item["true"]), escape(item["predicted"]),
                               f"{item['count']:,}")
        console.print(confusions)


def _emit_progress(stage: str, done: int, total: int) -> None:
    """One JSON event line on stdout: a stage as a Note, a scored batch as BatchEnded."""
    from rnn_tui.train.events import BatchEnded, Note

    event = BatchEnded(epoch=1, step=done, steps=total, logs={}) if total else \
        Note(text=stage, topic="progress")
    click.echo(json.dumps(event.to_dict(), ensure_ascii=False))


@click.command("evaluate", context_settings=CONTEXT_SETTINGS)
@click.argument("model")
@click.option("--dataset", "-d", help="Score on another corpus (same task and classes). "
              "[the model's own]")
@click.option("--split", type=click.Choice(["test", "validation", "train"]), default="test",
              show_default=True, help="Which split to score.")
@click.option("--limit", type=int, help="Score only the first N rows.")
@click.option("--batch-size", type=int, default=256, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The full report as JSON.")
@click.option("--progress-events", is_flag=True, hidden=True,
              help="With --json: progress as JSON event lines (Note, BatchEnded) before the "
                   "report, for the app.")
def evaluate(model: str, dataset: str | None, split: str, limit: int | None, batch_size: int,
             as_json: bool, progress_events: bool) -> None:
    """Score MODEL on a corpus split: loss, accuracy, per-class precision/recall/F1 and the
    confusion matrix (for many classes: the 10 largest confusions).

    \b
      rnn-tui evaluate imdb-lstm
      rnn-tui evaluate reuters-lstm@best --split validation --json
    """
    from rnn_tui.errors import UserError
    from rnn_tui.registry import open_registries
    from rnn_tui.train.scoring import evaluate_version

    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, not {limit}")
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, not {batch_size}")
    version = open_registries().resolve(model)
    report = evaluate_version(version, dataset=dataset, split=split, batch_size=batch_size,
                              limit=limit,
                              progress=_emit_progress if as_json and progress_events else None)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    from rich.console import Console

    render_report(report, Console())
