"""``rnn-tui evaluate MODEL``: loss, accuracy, per-class precision/recall/F1 and confusions.

The one inspecting command that imports TensorFlow (it runs the Keras model).
"""

from __future__ import annotations

import json
from typing import Any

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
def render_report(report: dict[str, Any], console: Any) -> None:
    """Print an evaluation report (``rnn_tui.views.evaluation``, as the app shows it)."""
    from rnn_tui.views.evaluation import evaluation_parts

    for index, part in enumerate(evaluation_parts(report)):
        console.print(part, highlight=False, soft_wrap=index == 0)  # the title: one line


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
