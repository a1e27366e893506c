"""The check report drawn with rich: one table for the CLI and the TUI alike.

Texts come from a suite file and labels from a model card, so every one goes through the
escaping rule (``rnn_tui.terminal.rich_text``). Narrow enough for 80 columns: the example
column takes what is left and wraps.
"""

from __future__ import annotations

from typing import Any

from rnn_tui.check.runner import CheckReport, Failure
from rnn_tui.terminal import rich_text

# The bar for a shipped model; rates above it are drawn in red.
TARGET_FAILURE_RATE = 0.10


def describe_failure(failure: Failure) -> str:
    """One line: the text(s), what was expected and what the model said."""
    case = failure.case
    if case.expect == "no change":  # two variants that disagree are enough to see why
        first = failure.got[0]
        other = next(i for i, got in enumerate(failure.got) if got != first)
        return (f"{case.texts[0]!r} → {first}, but {case.texts[other]!r} → "
                f"{failure.got[other]}")
    return (f"{case.texts[0]!r}: expected {case.expect}, got {failure.got[0]} "
            f"(p positive {failure.probabilities[0]:.2f})")


def report_table(report: CheckReport, *, title: str | None = None) -> Any:
    """A rich Table: capability, tests, failed, failure rate, and one failing example."""
    from rich.table import Table

    table = Table(title=rich_text(title) if title else None, header_style="bold",
                  expand=False)
    table.add_column("capability", no_wrap=True)
    table.add_column("tests", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("a failure", overflow="fold", ratio=1)
    for result in report.results:
        style = "red" if result.failure_rate > TARGET_FAILURE_RATE else "green"
        example = describe_failure(result.failures[0]) if result.failures else ""
        table.add_row(rich_text(result.name), f"{result.tests}", f"{result.failed}",
                      f"[{style}]{result.failure_rate:.0%}[/{style}]", rich_text(example))
    rate = report.failed / report.tests if report.tests else 0.0
    table.add_row("[bold]all[/bold]", f"{report.tests}", f"{report.failed}", f"{rate:.0%}", "")
    return table


def failure_lines(report: CheckReport, limit: int) -> list[str]:
    """Up to ``limit`` failing cases per capability, as escaped rich markup lines."""
    lines = []
    for result in report.results:
        if not result.failures or limit <= 0:
            continue
        lines.append(f"[bold]{rich_text(result.name)}[/bold]: {result.failed} of "
                     f"{result.tests} failed")
        lines.extend(f"  {rich_text(describe_failure(failure))}"
                     for failure in result.failures[:limit])
    return lines
