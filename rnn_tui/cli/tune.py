"""``rnn-tui tune``: a hyperparameter search (Optuna) within a budget, then the best trial
trained again on the whole training split and published.

Thin: flags -> a ``SearchPlan`` (``rnn_tui.tune.study``), a live trial table while it runs,
the retraining drawn by the training renderer.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from rnn_tui.errors import UserError
from rnn_tui.tune.study import PRUNERS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EPILOG = """\b
Search space (--space): "default" searches, for texts, the recurrent kind (simplernn,
lstm, gru), units, embedding size, spatial dropout, pooling, learning rate, maxlen,
vocabulary size and bigram features, 3 epochs a trial; for numeric sequences the
kind, units, layers, rate and batch size, 10 epochs. Or a YAML/JSON file:
    epochs: 3
    settings: {cleaner: html, lr_schedule: linear}
    params:
      arch: [lstm, gru]
      units: {low: 32, high: 128, log: true}
      learning_rate: {low: 3.0e-4, high: 3.0e-3, log: true}
      ngrams: [0, 2]

\b
Trials are scored on validation data held out of the training split (--metric, the
value after the last epoch); the test split is never read by a trial. Poor trials
stop after any epoch: --pruner halving (successive halving: after its first epoch a
trial goes on while it is in the best third at that epoch), median (the median rule)
or none (every trial runs to its last epoch; also --no-pruning).
When the search ends, the best trial of the study is trained again on every training
row, evaluated on the test split and published with its study, trial number and
params in the card.

\b
Studies persist: in $RNN_TUI_HOME/tune/studies.db unless --storage names an Optuna
RDB URL. The same command resumes a stopped study, and several processes or machines
running it on one storage share the study (postgresql://user@host/db for machines;
give all but one --no-retrain). --trials 0 only retrains and publishes the best.

\b
Examples:
  rnn-tui tune --dataset imdb --budget 20m --alias best
  rnn-tui tune --dataset reuters --space my-space.yaml --trials 30 --study reuters-a
  rnn-tui tune --dataset imdb --budget 2h --storage postgresql://me@db/optuna --no-retrain
  rnn-tui tune --dataset imdb --study imdb-default --trials 0     # publish the best so far
"""


@click.command("tune", context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("--dataset", "-d", required=True,
              help="Corpus name (rnn-tui data list) or a CSV/TSV/JSONL path.")
@click.option("--dataset-option", multiple=True, metavar="KEY=VALUE",
              help="Corpus loader option, e.g. train_size=2560 (repeatable).")
@click.option("--space", default="default", show_default=True,
              help="'default' or a YAML/JSON search space file.")
@click.option("--budget", help="Time for the search: 20m, 1h30m, 90s. [none]")
@click.option("--trials", type=click.IntRange(min=0),
              help="Trials this process runs (0: retrain the best only). [until the budget]")
@click.option("--metric", help="What trials are scored on. [val_accuracy; val_loss for "
                               "regression]")
@click.option("--study", "study_name", help="The study's name. [DATASET-SPACE]")
@click.option("--storage", help="An Optuna RDB URL. [sqlite in $RNN_TUI_HOME/tune]")
@click.option("--name", "-n", "model_name", help="Registry name of the best model. "
                                                 "[DATASET-tuned]")
@click.option("--alias", help="Point this alias (e.g. best) at the published version.")
@click.option("--pruner", type=click.Choice(PRUNERS), default="halving", show_default=True,
              help="How poor trials stop early (none: every trial runs all its epochs).")
@click.option("--no-pruning", is_flag=True, help="The same as --pruner none.")
@click.option("--no-retrain", is_flag=True,
              help="Search only (other processes of a shared study, or later: --trials 0).")
@click.option("--tensorboard", "tensorboard_dir", metavar="DIR",
              help="TensorBoard logs: trials in DIR/STUDY/trial-N, the retraining in DIR/NAME.")
@click.option("--seed", type=int, default=42, show_default=True, help="Every trial's seed.")
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
@click.option("--json", "json_output", is_flag=True,
              help="JSON events on stdout, one a line (the trial table as TrialsChanged, "
                   "then the retraining's training events): what the app's /tune reads.")
def tune(**options: Any) -> None:
    """Search architectures and settings on a corpus, then publish the best model."""
    from rnn_tui.train.options import parse_option
    from rnn_tui.tune.space import default_space, load_space
    from rnn_tui.tune.study import (
        SearchPlan,
        check_metric,
        default_storage,
        parse_budget,
    )

    budget = parse_budget(options["budget"]) if options["budget"] else None
    if budget is None and options["trials"] is None:
        raise UserError("give --budget (20m) or --trials N: a search needs an end")
    dataset_options = dict(parse_option(text) for text in options["dataset_option"])
    space = None if options["space"] == "default" else load_space(options["space"])
    if options["tensorboard_dir"]:
        from rnn_tui.train.tensorboard import check_log_dir

        check_log_dir(options["tensorboard_dir"])
    if options["model_name"]:
        from rnn_tui.registry.names import check_name

        check_name(options["model_name"])
    if options["alias"]:
        from rnn_tui.registry.names import check_alias

        check_alias(options["alias"])

    from rnn_tui.data import load_corpus

    corpus = load_corpus(options["dataset"], **dataset_options)
    if space is None:
        space = default_space(corpus.task, text=corpus.is_text)
    else:
        from rnn_tui.tune.space import check_space_for_corpus

        check_space_for_corpus(space, corpus)
    metric = options["metric"] or space.metric or \
        ("val_loss" if corpus.task == "regression" else "val_accuracy")
    check_metric(metric, corpus.task, space.settings)
    from rnn_tui.train.config import plain_word

    dataset_word = plain_word(options["dataset"])
    plan = SearchPlan(
        dataset=options["dataset"], dataset_options=dataset_options, space=space,
        metric=metric, study_name=options["study_name"] or f"{dataset_word}-{space.name}",
        storage=options["storage"] or default_storage(), budget_s=budget,
        trials=options["trials"], seed=options["seed"],
        pruner="none" if options["no_pruning"] else options["pruner"],
        tensorboard_dir=options["tensorboard_dir"])
    model_name = options["model_name"] or f"{dataset_word}-tuned"
    _search_and_publish(plan, corpus, model_name, options)


def _search_and_publish(plan: Any, corpus: Any, model_name: str, options: dict[str, Any]
                        ) -> None:
    from rnn_tui.tune.study import best_trial, budget_too_small, open_study, run_search
    from rnn_tui.tune.view import trial_rows, trial_table

    study = open_study(plan, corpus.task)
    output = _SearchOutput(plan, options)
    mine: list[int] = []
    interrupted = False
    if plan.trials != 0:
        output.say(f"tuning {plan.dataset}: study {plan.study_name} in "
                   f"{_storage_word(plan.storage)}; "
                   + (f"budget {plan.budget_s:g}s" if plan.budget_s else
                      f"{plan.trials} trial(s)"))
        try:
            with output.live(study) as on_change:
                mine = run_search(plan, corpus, study, on_change=on_change)
        except KeyboardInterrupt:
            interrupted = True
        output.finished(study)
    rows = trial_rows(study)
    if output.mode == "json":
        output.changed(study)
    elif output.mode == "plain" or interrupted:
        output.console.print(trial_table(rows, plan.metric, output.title))
    if interrupted:
        click.echo(f"rnn-tui: stopped; the finished trials are kept in study "
                   f"{plan.study_name} (the same command continues it)", err=True)
        sys.exit(130)
    reason = budget_too_small(study, mine, plan.budget_s)
    if reason:
        raise UserError(reason)
    best = best_trial(study)
    if best is None:
        from rnn_tui.errors import RnnTuiError

        raise RnnTuiError(f"study {plan.study_name}: no trial has completed yet "
                          f"({len(rows)} pruned, failed or running)")
    output.say(f"best: trial {best.number}, {plan.metric} {best.value:.4f}; "
               + " ".join(f"{key}={value}" for key, value in best.params.items()))
    if options["no_retrain"]:
        return
    _retrain(study, plan, corpus, model_name, options, output)


class _SearchOutput:
    """Where the search is shown: a live rich table on a terminal, a line per finished
    trial otherwise (``--plain``), or JSON events (``--json``: the whole table each time it
    changes, for the app)."""

    def __init__(self, plan: Any, options: dict[str, Any]) -> None:
        from rich.console import Console

        self.plan = plan
        self.console = Console()
        self.title = f"study {plan.study_name}: {plan.metric} ({plan.space.source})"
        if options["json_output"]:
            self.mode = "json"
        elif self.console.is_terminal and not options["plain"]:
            self.mode = "live"
        else:
            self.mode = "plain"
        self.printed: set[int] = set()
        self._events: Any = None

    def emit(self, event: Any) -> None:
        if self._events is None:
            from rnn_tui.train.render import renderer_for

            self._events = renderer_for("json")
        self._events(event)

    def say(self, text: str) -> None:
        if self.mode == "json":
            from rnn_tui.train.events import Note

            self.emit(Note(text=text, topic="tune"))
        else:
            click.echo(text)

    def changed(self, study: Any) -> None:
        from rnn_tui.tune.events import TrialsChanged
        from rnn_tui.tune.view import trial_rows

        self.emit(TrialsChanged(study=self.plan.study_name, metric=self.plan.metric,
                                rows=trial_rows(study), source=self.plan.space.source))

    def plain_update(self, study: Any) -> None:
        from rnn_tui.tune.view import row_line, trial_rows

        for row in trial_rows(study):
            if row.number not in self.printed and not row.state.startswith("running"):
                self.printed.add(row.number)
                click.echo(row_line(row, self.plan.metric))

    @contextlib.contextmanager
    def live(self, study: Any) -> Iterator[Callable[[Any], None]]:
        """The ``on_change`` of the search, while it runs."""
        from rnn_tui.tune.view import trial_rows, trial_table

        for row in trial_rows(study):  # a resumed study: its trials so far
            self.printed.add(row.number)
        if self.mode == "json":
            self.changed(study)
            yield self.changed
        elif self.mode == "live":
            from rich.live import Live

            with Live(trial_table(trial_rows(study), self.plan.metric, self.title),
                      console=self.console, refresh_per_second=2) as live:
                yield lambda study_: live.update(
                    trial_table(trial_rows(study_), self.plan.metric, self.title))
        else:
            yield self.plain_update

    def finished(self, study: Any) -> None:
        if self.mode == "plain":
            self.plain_update(study)


def _storage_word(url: str) -> str:
    from rnn_tui.terminal import escape
    from rnn_tui.tune.study import shown_url

    return escape(shown_url(url))


def _retrain(study: Any, plan: Any, corpus: Any, model_name: str, options: dict[str, Any],
             output: _SearchOutput) -> None:
    from rnn_tui.cli.train import sigterm_cancels
    from rnn_tui.train.engine import RunCancelledError
    from rnn_tui.train.render import renderer_for
    from rnn_tui.tune.study import retrain_best

    callbacks = None
    if options["tensorboard_dir"]:
        from rnn_tui.train.tensorboard import tensorboard_callbacks

        callbacks = tensorboard_callbacks(options["tensorboard_dir"], model_name)
    output.say(f"training the best trial again on the whole training split as {model_name}")
    renderer = output.emit if output.mode == "json" else \
        renderer_for("plain" if options["plain"] else "auto")
    try:
        with sigterm_cancels():
            result = retrain_best(study, plan, model_name, alias=options["alias"],
                                  on_event=renderer, extras_callbacks=callbacks, corpus=corpus)
    except RunCancelledError as error:
        if output.mode != "json":  # the events said it (RunCancelled)
            click.echo(f"rnn-tui: {error}", err=True)
        sys.exit(130)
    if options["alias"]:
        output.say(f"{model_name}@{options['alias']} -> {result.model_ref}")
