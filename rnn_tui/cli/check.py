"""``rnn-tui check MODEL``: a behavioural test suite for a sentiment model.

Templated cases per capability (negation, double negation, contrast, intensifiers, typos,
emoji and slang, invariance, very short texts) in the model's language, scored with the
TensorFlow-free runtime in about a second. See ``rnn_tui.check``.
"""

from __future__ import annotations

import os
import sys

import click

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as predict: small products, no threads

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("check", context_settings=CONTEXT_SETTINGS)
@click.argument("model_ref", metavar="MODEL")
@click.option("--suite", "suite_name", metavar="LANG|FILE",
              help="A shipped suite (en, ko) or a suite file (JSON). Default: the model's "
                   "language.")
@click.option("-c", "--capability", "capabilities", multiple=True, metavar="NAME",
              help="Run only this capability (repeatable).")
@click.option("--format", "output_format", type=click.Choice(("table", "json")),
              default="table", show_default=True)
@click.option("--failures", type=click.IntRange(min=0), default=0, show_default=True,
              help="List up to N failing cases per capability.")
@click.option("--fail-above", type=click.FloatRange(0, 1), default=None, metavar="RATE",
              help="Exit with code 1 when any capability fails more than RATE (e.g. 0.1).")
def check(model_ref: str, suite_name: str | None, capabilities: tuple[str, ...],
          output_format: str, failures: int, fail_above: float | None) -> None:
    """Test a sentiment model capability by capability: the failure rate of each.

    Each case says what it expects: a label, or "no change" when only a name, a number or
    the punctuation differs. A text the model cannot read at all counts as a failure.

    \b
      rnn-tui check imdb-sentiment
      rnn-tui check nsmc-sentiment --failures 5
      rnn-tui check my-model --suite ko -c negation -c contrast --format json
      rnn-tui check my-model --suite my_suite.json --fail-above 0.1
    """
    from rnn_tui.check.runner import check_predictor
    from rnn_tui.infer.predictor import Predictor
    from rnn_tui.terminal import json_text, rich_text

    predictor = Predictor.load(model_ref)
    report = check_predictor(predictor, suite_name, capabilities=capabilities or None)
    suite = report.suite
    name = f"{predictor.name}:{predictor.version}" if predictor.version else predictor.name
    if output_format == "json":
        data = {"model": name, **report.to_dict(failures if failures else None)}
        click.echo(json_text(data))
    else:
        from rich.console import Console

        from rnn_tui.check.view import failure_lines, report_table

        console = Console(highlight=False)
        title = f"{name}: {suite.title} ({report.tests} cases)"
        console.print(report_table(report, title=title))
        for note in report.notes:
            console.print(f"note: {rich_text(note)}")
        for line in failure_lines(report, failures):
            console.print(line, soft_wrap=True)
    if fail_above is not None and report.worst.failure_rate > fail_above:
        click.echo(f"rnn-tui check: {report.worst.name} fails {report.worst.failure_rate:.0%} "
                   f"of its cases (more than {fail_above:.0%})", err=True)
        sys.exit(1)

