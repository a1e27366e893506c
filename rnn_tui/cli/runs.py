"""``rnn-tui runs``: the training runs of this home, from their event logs.

Any run started with ``rnn-tui train`` (in this terminal or another, with nohup, from the
app, or on another worker of the same home) logs its events (``rnn_tui.train.run_log``);
these commands list them, show one, watch one live as ``train`` draws it, or stop one.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import click

from rnn_tui.terminal import escape

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
WATCH_POLL_S = 0.5


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")


def _progress(run: Any) -> str:
    if not run.epochs:
        return "starting"
    text = f"epoch {run.epoch}/{run.epochs}"
    if run.status == "running" and run.steps:
        text += f" · batch {run.step}/{run.steps}"
    return text


def _outcome(run: Any) -> str:
    if run.status == "finished":
        return f"→ {run.model_ref}" if run.model_ref else "not published"
    return run.message


@click.group("runs", context_settings=CONTEXT_SETTINGS)
def runs() -> None:
    """List, show, watch and stop training runs (from any terminal).

    Each `rnn-tui train` logs its events under $RNN_TUI_HOME/run-logs; finished runs are
    kept (the newest 200, for 30 days).

    \b
      rnn-tui runs list
      rnn-tui runs watch imdb-lstm
      rnn-tui runs stop imdb-lstm
    """


@runs.command("list", context_settings=CONTEXT_SETTINGS)
def list_command() -> None:
    """The runs, newest first: status, progress, when, where."""
    from rnn_tui.paths import run_logs_root
    from rnn_tui.train.run_log import list_runs

    records = list_runs(run_logs_root())
    if not records:
        click.echo("no runs yet: rnn-tui train ... logs each run here")
        return
    rows = [(escape(run.name), run.status, _progress(run), _when(run.started),
             escape(run.host), escape(_outcome(run))) for run in records]
    header = ("NAME", "STATUS", "PROGRESS", "STARTED", "HOST", "OUTCOME")
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(5)]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                   + "  " + row[5])


@runs.command("show", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
def show_command(name: str) -> None:
    """A run's status, notes, metrics per epoch and outcome (its newest log)."""
    from rnn_tui.paths import run_logs_root
    from rnn_tui.train.events import EpochEnded
    from rnn_tui.train.run_log import find_run

    run = find_run(run_logs_root(), name)
    click.echo(f"{escape(run.name)}: {run.status}, {_progress(run)}; started "
               f"{_when(run.started)} on {escape(run.host)} (pid {run.pid})")
    for note in run.notes:
        click.echo(f"  note: {escape(note)}")
    for event in run.events:
        if isinstance(event, EpochEnded):
            logs = "  ".join(f"{key} {value:.4g}" for key, value in event.logs.items())
            click.echo(f"  epoch {event.epoch}/{event.epochs} ({event.seconds:.1f} s)  "
                       f"{escape(logs)}")
    if run.done:
        metrics = "  ".join(f"{key} {value:.4g}" for key, value in run.metrics.items()
                            if key.startswith("test_"))
        click.echo(f"  {run.status}: {escape(_outcome(run))}" + (f"  ({metrics})"
                                                                  if metrics else ""))
    click.echo(f"  log: {escape(str(run.path))}")


@runs.command("watch", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
def watch_command(name: str, plain: bool) -> None:
    """Follow a run live, drawn as `rnn-tui train` draws it, until it ends (Ctrl-C stops
    watching; the run goes on)."""
    from rnn_tui.paths import run_logs_root
    from rnn_tui.train.render import renderer_for
    from rnn_tui.train.run_log import TERMINAL, find_run, read_events, read_run

    run = find_run(run_logs_root(), name)
    renderer = renderer_for("plain" if plain else "auto")
    offset = 0

    def show_new() -> bool:
        """Draw what the log gained; True once its last word is among it."""
        nonlocal offset
        events, offset = read_events(run.path, offset)
        for event in events:
            renderer(event)
        return any(isinstance(event, TERMINAL) for event in events)

    try:
        while True:
            if show_new():
                return
            # It may write its last word between our read and this check: read once more,
            # and complain only when there was none (killed).
            if read_run(run.path).done:
                if show_new():
                    return
                click.echo(f"rnn-tui: {escape(run.name)} ended without a last word "
                           "(killed?)", err=True)
                raise SystemExit(1)
            time.sleep(WATCH_POLL_S)
    except KeyboardInterrupt:
        click.echo(f"\nstopped watching; {escape(run.name)} goes on", err=True)


@runs.command("stop", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
def stop_command(name: str) -> None:
    """Cancel a running run cleanly (as Ctrl-C in its terminal: it keeps its resume state
    and publishes nothing). Only for runs on this machine."""
    from rnn_tui.paths import run_logs_root
    from rnn_tui.train.run_log import find_run, stop

    run = find_run(run_logs_root(), name)
    stop(run)
    click.echo(f"stopping {escape(run.name)} (pid {run.pid}); rnn-tui runs watch "
               f"{escape(run.name)} shows it end")
