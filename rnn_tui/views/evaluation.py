"""An evaluation report as both faces show it: ``rnn-tui evaluate`` prints these parts, the
app's /evaluate puts them in the chat.

The report is the dict ``rnn_tui.train.scoring.evaluate_version`` returns (``evaluate
--json`` prints it). Labels come from the card and the corpus: escaped, never markup.

>>> parts = evaluation_parts({"ref": "m:1", "dataset": "multiplication", "split": "test",
...                           "rows": 3, "task": "regression", "loss": 0.5, "mae": 0.25})
>>> [part.plain for part in parts]
['m:1 on multiplication test (3 rows)', '  loss  0.5000', '  mae   0.2500']
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rnn_tui.terminal import rich_text as escape

# Up to this many classes the whole confusion matrix is shown; beyond, the top confusions.
FULL_MATRIX_MAX_CLASSES = 10


def evaluation_parts(report: dict[str, Any]) -> list[RenderableType]:
    """The report as rich renderables, top to bottom (print each, or group them)."""
    parts: list[RenderableType] = [Text.from_markup(
        f"[bold]{escape(report['ref'])}[/bold] on {escape(str(report['dataset']))} "
        f"{report['split']} ({report['rows']:,} rows)")]
    if report["task"] == "regression":
        for key in ("loss", "mae", "rmse", "r2"):
            if report.get(key) is not None:
                parts.append(Text(f"  {key:<5} {report[key]:.4f}"))
        return parts
    parts.append(Text(f"  loss      {report['loss']:.4f}"))
    parts.append(Text(f"  accuracy  {report['accuracy']:.4f} ({report['accuracy']:.1%})"))
    parts.append(_class_table(report))
    absent = report.get("absent") or []
    if absent:
        shown = ", ".join(escape(label) for label in absent[:8])
        more = f" and {len(absent) - 8} more" if len(absent) > 8 else ""
        parts.append(Text.from_markup(
            f"[dim]{len(absent)} class{'es' if len(absent) != 1 else ''} with no rows and no "
            f"predictions left out of the rows and the macro average (as scikit-learn "
            f"does): {shown}{more}[/dim]"))
    parts.append(_confusions(report))
    return parts


def _class_table(report: dict[str, Any]) -> Table:
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
    return table


def _confusions(report: dict[str, Any]) -> Table:
    """The whole confusion matrix, or for many classes the largest confusions."""
    labels = report["labels"]
    if len(labels) <= FULL_MATRIX_MAX_CLASSES:
        matrix = Table(title="confusion matrix (rows: true, columns: predicted)",
                       header_style="bold")
        matrix.add_column("")
        for label in labels:
            matrix.add_column(escape(label), justify="right")
        for label, counts in zip(labels, report["confusion_matrix"]):
            matrix.add_row(escape(label), *(f"{count:,}" for count in counts))
        return matrix
    confusions = Table("true", "predicted as", "count",
                       title=f"largest confusions (top {len(report['top_confusions'])})",
                       header_style="bold")
    confusions.columns[2].justify = "right"
    for item in report["top_confusions"]:
        confusions.add_row(escape(item["true"]), escape(item["predicted"]),
                           f"{item['count']:,}")
    return confusions
