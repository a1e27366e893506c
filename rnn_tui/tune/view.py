"""The trial table of a study: rows read from Optuna's trials, drawn with rich.

``trial_rows`` is plain data (the CLI's live table and a TUI pane can both draw it);
``trial_table`` draws it, the best trial highlighted. Parameter values come from the
study's storage, which other processes write: they reach the terminal through
``rnn_tui.terminal``'s escaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rnn_tui.terminal import escape

MAX_ROWS = 18  # the newest trials (and the best) fit an 80x24 terminal with the title


@dataclass
class TrialRow:
    number: int
    state: str  # running, complete, pruned, failed; "pruned (budget)" when time ran out
    params: dict[str, Any]
    values: list[float]  # the metric after each epoch
    value: float | None
    seconds: float | None
    best: bool = False


def _state(trial: Any) -> str:
    state = trial.state.name.lower().replace("fail", "failed")
    stopped = trial.user_attrs.get("stopped")
    return f"{state} ({stopped})" if stopped else state


def trial_rows(study: Any) -> list[TrialRow]:
    """Every trial of the study, oldest first."""
    from rnn_tui.tune.study import best_trial

    best = best_trial(study)
    rows = []
    for trial in study.get_trials(deepcopy=False):
        start, end = trial.datetime_start, trial.datetime_complete
        seconds = None
        if start is not None:
            seconds = ((end or datetime.now()) - start).total_seconds()
        values = [trial.intermediate_values[step] for step in sorted(trial.intermediate_values)]
        rows.append(TrialRow(trial.number, _state(trial), dict(trial.params), values,
                             trial.value, seconds,
                             best=best is not None and trial.number == best.number))
    return rows


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "-" if value is None else str(value)


def shown_rows(rows: list[TrialRow], limit: int = MAX_ROWS) -> list[TrialRow]:
    """The newest ``limit`` rows, with the best kept in even when it is older."""
    if len(rows) <= limit:
        return rows
    newest = rows[-(limit - 1):]
    best = [row for row in rows[:-(limit - 1)] if row.best]
    return best + newest if best else rows[-limit:]


def trial_table(rows: list[TrialRow], metric: str, title: str | None = None) -> Any:
    """A rich Table: trial, state, params, the metric per epoch, value, time."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, box=None, pad_edge=False, header_style="bold")
    for header in ("#", "state", "params", f"{metric} by epoch", "value", "time"):
        table.add_column(header, overflow="fold")
    for row in shown_rows(rows):
        params = " ".join(f"{name}={_short(value)}" for name, value in row.params.items())
        values = " ".join(f"{value:.4f}" for value in row.values)
        style = "bold green" if row.best else ("dim" if row.state.startswith(("pruned",
                                                                             "failed")) else "")
        table.add_row(Text(("★ " if row.best else "") + str(row.number)),
                      Text(row.state), Text(escape(params)), Text(values),
                      Text("-" if row.value is None else f"{row.value:.4f}"),
                      Text("-" if row.seconds is None else f"{row.seconds:.0f}s"),
                      style=style)
    return table


def row_line(row: TrialRow, metric: str) -> str:
    """One plain line for a finished trial (output that is not a terminal)."""
    params = " ".join(f"{name}={_short(value)}" for name, value in row.params.items())
    value = "-" if row.value is None else f"{row.value:.4f}"
    best = " (best so far)" if row.best else ""
    seconds = "-" if row.seconds is None else f"{row.seconds:.0f}s"
    return escape(f"trial {row.number}: {row.state}, {metric} {value} after "
                    f"{len(row.values)} epoch(s), {seconds}{best}; {params}")
