"""``rnn-tui tune``: a hyperparameter search (Optuna) within a budget, then the best trial
trained again on the whole training split and published.

Thin: flags -> a ``SearchPlan`` (``rnn_tui.tune.study``), a live trial table while it runs,
the retraining drawn by the training renderer.
"""

from __future__ import annotations

import sys
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
        trials=options["trials"], pruner="none" if options["no_pruning"] else options["pruner"], seed=options["seed"],
        tensorboard_dir=options["tensorboard_dir"])
    model_name = options["model_name"] or f"{dataset_word}-tuned"
    _search_and_publish(plan, corpus, model_name, options)


def _search_and_publish(plan: Any, corpus: Any, model_name: str, options: dict[str, Any]
                        ) -> None:
    from rich.console import Console

    from rnn_tui.tune.study import best_trial, budget_too_small, open_study, run_search
    from rnn_tui.tune.view import row_line, trial_rows, trial_table

    study = open_study(plan, corpus.task)
    console = Console()
    live_table = console.is_terminal and not options["plain"]
    title = f"study {plan.study_name}: {plan.metric} ({plan.space.source})"
    printed: set[int] = set()

    def plain_update(study_: Any) -> None:
        for row in trial_rows(study_):
            if row.number not in printed and not row.state.startswith("running"):
                printed.add(row.number)
                click.echo(row_line(row, plan.metric))

    mine: list[int] = []
    interrupted = False
    if plan.trials != 0:
        click.echo(f"tuning {plan.dataset}: study {plan.study_name} in "
                   f"{_storage_word(plan.storage)}; "
                   + (f"budget {plan.budget_s:g}s" if plan.budget_s else
                      f"{plan.trials} trial(s)"))
        for row in trial_rows(study):  # a resumed study: its trials so far
            printed.add(row.number)
        try:
            if live_table:
                from rich.live import Live

                with Live(trial_table(trial_rows(study), plan.metric, title), console=console,
                          refresh_per_second=2) as live:
                    def update(study_: Any) -> None:
                        live.update(trial_table(trial_rows(study_), plan.metric, title))

                    mine = run_search(plan, corpus, study, on_change=update)
            else:
                mine = run_search(plan, corpus, study, on_change=plain_update)
        except KeyboardInterrupt:
            interrupted = True
        if not live_table:
            plain_update(study)
    rows = trial_rows(study)
    if not live_table or interrupted:
        console.print(trial_table(rows, plan.metric, title))
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
    click.echo(f"best: trial {best.number}, {plan.metric} {best.value:.4f}; "
               + " ".join(f"{key}={value}" for key, value in best.params.items()))
    if options["no_retrain"]:
        return
    _retrain(study, plan, corpus, model_name, options)


def _storage_word(url: str) -> str:
    from rnn_tui.terminal import escape
    from rnn_tui.tune.study import shown_url

    return escape(shown_url(url))


def _retrain(study: Any, plan: Any, corpus: Any, model_name: str, options: dict[str, Any]
             ) -> None:
    from rnn_tui.cli.train import sigterm_cancels
    from rnn_tui.train.engine import RunCancelledError
    from rnn_tui.train.render import renderer_for
    from rnn_tui.tune.study import retrain_best

    callbacks = None
    if options["tensorboard_dir"]:
        from rnn_tui.train.tensorboard import tensorboard_callbacks

        callbacks = tensorboard_callbacks(options["tensorboard_dir"], model_name)
    click.echo(f"training the best trial again on the whole training split as {model_name}")
    renderer = renderer_for("plain" if options["plain"] else "auto")
    try:
        with sigterm_cancels():
            result = retrain_best(study, plan, model_name, alias=options["alias"],
                                  on_event=renderer, extras_callbacks=callbacks, corpus=corpus)
    except RunCancelledError as error:
        click.echo(f"rnn-tui: {error}", err=True)
        sys.exit(130)
    if options["alias"]:
        click.echo(f"{model_name}@{options['alias']} -> {result.model_ref}")
