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


# Short names of the parameters, for a table that must fit a narrow pane (the app's /tune).
SHORT_NAMES = {"learning_rate": "lr", "embedding_dim": "emb", "spatial_dropout": "sdrop",
               "recurrent_dropout": "rdrop", "dropout": "drop", "num_words": "words",
               "ngram_words": "ngwords", "ngram_dim": "ngdim", "batch_size": "batch",
               "bidirectional": "bi", "lr_schedule": "sched", "optimizer": "opt",
               "clipnorm": "clip", "layers": "lay"}
MIN_PARAMS_WIDTH = 12  # below this the params column is dropped, not shown as "a…"
EPOCHS_SHOWN_NARROW = 3  # a narrow table shows the last values ("… 0.812 0.830 0.842")


def params_text(params: dict[str, Any], short: bool = False) -> str:
    """``arch=lstm units=64 ...``; ``short``: ``arch=lstm units=64 lr=0.00123``."""
    return " ".join(f"{SHORT_NAMES.get(name, name) if short else name}={_short(value)}"
                    for name, value in params.items())


def _short_state(state: str) -> str:
    """``pruned (budget)`` -> ``pruned: budget``; a long reason keeps its first word."""
    word, _, reason = state.partition(" (")
    reason = reason.rstrip(")").split(":")[0].split(" ")[0]
    return f"{word}: {'stopped' if reason == 'interrupted' else reason}" if reason else word


def trial_table(rows: list[TrialRow], metric: str, title: str | None = None, *,
                width: int | None = None, limit: int = MAX_ROWS) -> Any:
    """A rich Table: trial, state, params, the metric per epoch, value, time; the best trial
    in bold green with a star, pruned and failed ones dim.

    ``width``: the table fits that many cells. Parameter names are shortened (``lr``), the
    states too, only the last few epochs are shown, and columns that still do not fit are
    dropped whole (time first, then the epochs, the state, the params): nothing is cut in
    the middle or folded. ``limit``: at most that many rows (the newest, and the best).
    """
    from rich.table import Table
    from rich.text import Text

    shown = shown_rows(rows, limit)
    narrow = width is not None
    cells = {
        "#": [("★ " if row.best else "") + str(row.number) for row in shown],
        "state": [_short_state(row.state) if narrow else row.state for row in shown],
        "params": [escape(params_text(row.params, short=narrow)) for row in shown],
        "by epoch": [_epoch_values(row.values, narrow) for row in shown],
        "value": ["-" if row.value is None else f"{row.value:.4f}" for row in shown],
        "time": ["-" if row.seconds is None else f"{row.seconds:.0f}s" for row in shown],
    }
    headers = {name: name for name in cells} | {
        "by epoch": "by epoch" if narrow else f"{metric} by epoch"}
    names = list(cells)
    if narrow:
        names = _fitting_columns(cells, headers, width)
    table = Table(title=title, box=None, pad_edge=False, header_style="bold")
    for name in names:
        if narrow and name == "params":
            table.add_column(headers[name], no_wrap=True, overflow="ellipsis",
                             min_width=MIN_PARAMS_WIDTH, ratio=1)
        else:
            table.add_column(headers[name], no_wrap=narrow, overflow="fold")
    for index, row in enumerate(shown):
        style = "bold green" if row.best else ("dim" if row.state.startswith(("pruned",
                                                                             "failed")) else "")
        table.add_row(*(Text(cells[name][index]) for name in names), style=style)
    if narrow:
        table.width = width if "params" in names else None
    return table


def _epoch_values(values: list[float], narrow: bool) -> str:
    if not narrow:
        return " ".join(f"{value:.4f}" for value in values)
    text = " ".join(f"{value:.3f}" for value in values[-EPOCHS_SHOWN_NARROW:])
    return ("… " if len(values) > EPOCHS_SHOWN_NARROW else "") + text


# Dropped first to last when the table is too wide.
_DROP_ORDER = ("time", "by epoch", "state", "params")


def _fitting_columns(cells: dict[str, list[str]], headers: dict[str, str],
                     width: int) -> list[str]:
    """The columns that fit ``width`` (two cells between columns), the params column at
    ``MIN_PARAMS_WIDTH`` or more; the others at their widest cell."""
    from rich.cells import cell_len

    def needed(name: str) -> int:
        if name == "params":
            return MIN_PARAMS_WIDTH
        return max([cell_len(headers[name]), *(cell_len(cell) for cell in cells[name])])

    names = list(cells)
    for dropped in _DROP_ORDER:
        if sum(map(needed, names)) + 2 * (len(names) - 1) <= width:
            break
        names.remove(dropped)
    return names


def best_line(rows: list[TrialRow], metric: str) -> str:
    """``★ best: trial 3, val_accuracy 0.8421; arch=lstm units=64 ...`` (every param in
    full, for a narrow table whose params are shortened), or "" before any trial is done."""
    for row in rows:
        if row.best and row.value is not None:
            return escape(f"★ best: trial {row.number}, {metric} {row.value:.4f}; "
                          + params_text(row.params))
    return ""


def row_line(row: TrialRow, metric: str) -> str:
    """One plain line for a finished trial (output that is not a terminal)."""
    params = params_text(row.params)
    value = "-" if row.value is None else f"{row.value:.4f}"
    best = " (best so far)" if row.best else ""
    seconds = "-" if row.seconds is None else f"{row.seconds:.0f}s"
    return escape(f"trial {row.number}: {row.state}, {metric} {value} after "
                    f"{len(row.values)} epoch(s), {seconds}{best}; {params}")
