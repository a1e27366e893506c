"""``rnn-tui tune``'s search: an Optuna study of training configs, run within a budget.

- Sampler: TPE (``constant_liar``, so processes sharing a study do not all try the same
  point); it samples at random for the first ``STARTUP_TRIALS`` trials.
- Pruner (``make_pruner``), judged after every epoch: successive halving by default (after
  its first epoch a trial goes on only while it is in the best third of the trials at that
  epoch; Optuna's documentation reports it, and Hyperband, generally beating the median rule
  in its benchmarks), the median rule (a trial
  worse than the median of earlier trials at the same epoch stops), or none.
- Storage: any Optuna RDB URL; by default a SQLite file in the user's home
  (``default_storage``). Every process running the same command on the same storage and
  study adds trials to it: Optuna gives each trial its own row and number in one
  transaction, so none is lost or run twice. A stopped study resumes with the same command.
- A trial's value is its validation metric after its last epoch: the best trial is then
  trained again (``retrain_best``) with the same settings on the whole training split and
  published.

>>> parse_budget("1h30m"), parse_budget("20m"), parse_budget("45s"), parse_budget("90")
(5400.0, 1200.0, 45.0, 90.0)
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rnn_tui import paths
from rnn_tui.errors import RnnTuiError, UserError
from rnn_tui.tune.space import SearchSpace, apply_params

STARTUP_TRIALS = 4  # random trials before TPE models the results (20 min holds ~10 trials)
PRUNER_STARTUP_TRIALS = 2  # trials the median rule lets finish, so its median means something
HALVING_FACTOR = 3  # successive halving keeps the best 1/3 at each rung (epochs 1, 3, 9...)
PRUNERS = ("halving", "median", "none")
SQLITE_TIMEOUT_S = 60  # how long a process waits for another's write on a shared SQLite file
_MINIMIZED = ("loss", "mae", "mse", "error")


def parse_budget(text: str) -> float:
    """"20m", "1h30m", "45s", "90" (seconds) -> seconds."""
    value = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value)
        if not value or parts is None:
            raise UserError(f"--budget takes a duration such as 20m, 1h30m or 90s, not {text!r}")
        hours, minutes, secs = (int(part or 0) for part in parts.groups())
        seconds = float(hours * 3600 + minutes * 60 + secs)
    if seconds <= 0:
        raise UserError(f"--budget must be longer than 0 seconds, not {text!r}")
    return seconds


def default_storage() -> str:
    """The SQLite file every study lives in unless --storage names another."""
    folder = paths.home() / "tune"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'studies.db'}"


def shown_url(url: str) -> str:
    """The storage URL with any password hidden (it is printed and put in cards)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show nothing of it but the scheme
        return url.split(":", 1)[0] + ":..."


def direction_of(metric: str) -> str:
    return "minimize" if metric.rsplit("_", 1)[-1] in _MINIMIZED else "maximize"


def check_metric(metric: str, task: str, settings: dict[str, Any]) -> None:
    """A UserError unless the task's validation logs will hold ``metric``."""
    metrics = settings.get("metrics") or (["mae"] if task == "regression" else ["accuracy"])
    known = ["val_loss", *(f"val_{name}" for name in metrics)]
    if metric.startswith("test"):
        raise UserError(f"--metric {metric}: trials are chosen on validation data held out "
                        f"of the training split, never on the test split ({', '.join(known)})")
    if metric not in known:
        raise UserError(f"--metric {metric}: a {task} task logs {', '.join(known)}")


def open_storage(url: str) -> Any:
    """An Optuna RDB storage, or a UserError naming the URL (password hidden) and why."""
    import warnings

    import optuna

    # heartbeats are "experimental" in Optuna's words: its warning is no news for a user
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    try:
        # heartbeats: a trial whose process died (kill -9, a lost machine) is marked failed
        # by the next process that starts, instead of staying "running" for ever
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=30,
                                          grace_period=120)
    except Exception as error:  # ImportError (no driver), SQLAlchemy's errors, bad URLs
        reason = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        raise UserError(f"cannot open the study storage {shown_url(url)}: {reason[:200]}") \
            from None


class InvalidCombination(Exception):
    """The trial's params together make a config training refuses (each alone is fine)."""


@dataclass
class SearchPlan:
    """Everything ``run_search`` needs, as the CLI parsed it."""

    dataset: str
    dataset_options: dict[str, Any]
    space: SearchSpace
    metric: str
    study_name: str
    storage: str
    budget_s: float | None = None
    trials: int | None = None
    pruner: str = "halving"  # one of PRUNERS
    seed: int = 42
    sampler_seed: int | None = None
    tensorboard_dir: str | None = None  # each trial's logs in DIR/STUDY/trial-N


def setup_lock(url: str) -> Any:
    """Held while a process creates a SQLite storage's tables and the study: two processes
    starting together on a new file would both run Optuna's schema creation, and the second
    fails (a UNIQUE constraint on alembic_version). Other databases need no lock of ours."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:
        return contextlib.nullcontext()
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return contextlib.nullcontext()
    from pathlib import Path

    from rnn_tui.registry.locking import interprocess_lock

    folder = Path(parsed.database).expanduser().parent
    if not folder.is_dir():
        return contextlib.nullcontext()  # open_storage reports the missing folder
    return interprocess_lock(f"{parsed.database}.setup.lock", timeout=SQLITE_TIMEOUT_S)


def make_pruner(name: str) -> Any:
    """The Optuna pruner called ``name`` (one of ``PRUNERS``)."""
    import optuna

    if name == "halving":
        # min_resource=1: the first rung is the first epoch (Optuna's "auto" would wait for a
        # whole trial to guess it, leaving the first trials of every study unpruned)
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1,
                                                      reduction_factor=HALVING_FACTOR)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UserError(f"--pruner {name}: choose one of {', '.join(PRUNERS)}")


def open_study(plan: SearchPlan, task: str) -> Any:
    """Create the study, or load it when it exists and searches the same thing."""
    with setup_lock(plan.storage):
        return _open_study(plan, task)


def _open_study(plan: SearchPlan, task: str) -> Any:
    import optuna

    # our table reports every trial; Optuna's own log would repeat it with tracebacks
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(plan.storage)
    sampler = optuna.samplers.TPESampler(n_startup_trials=STARTUP_TRIALS,
                                         seed=plan.sampler_seed, constant_liar=True)
    pruner = make_pruner(plan.pruner)
    identity = {"dataset": plan.dataset, "dataset_options": plan.dataset_options,
                "metric": plan.metric, "space": plan.space.to_dict(), "task": task}
    try:
        study = optuna.create_study(storage=storage, sampler=sampler, pruner=pruner,
                                    study_name=plan.study_name,
                                    direction=direction_of(plan.metric), load_if_exists=True)
    except Exception as error:
        raise UserError(f"cannot open study {plan.study_name!r} in "
                        f"{shown_url(plan.storage)}: {str(error).splitlines()[0][:200]}") \
            from None
    stored = study.user_attrs.get("identity")
    if stored is None:
        study.set_user_attr("identity", identity)
    elif stored != identity:
        changed = sorted(key for key in identity if identity[key] != stored.get(key))
        raise UserError(f"study {plan.study_name!r} searches another {', '.join(changed)}: "
                        "resume it with the same dataset, space and metric, or give --study "
                        "a new name")
    return study


def run_search(plan: SearchPlan, corpus: Any, study: Any, *,
               on_change: Callable[[Any], None], cache: Any = None) -> list[int]:
    """Run trials until ``plan.trials`` of this process are done or the budget is spent.

    ``on_change(study)`` runs after every epoch and trial (the live table). ``cache``: a
    ``PreparedCache`` kept by a caller that calls this more than once (bench/tune.py runs
    one trial at a time); by default each call has its own. Returns the numbers of the
    trials this call ran.

    Ctrl-C (SIGINT) stops cleanly: the running trial ends at its next batch and is recorded
    as failed ("interrupted"), no new trial starts, and KeyboardInterrupt is raised once
    Optuna's bookkeeping is done (an interrupt in the middle of it could leave a trial
    "running" in the study for ever). A second Ctrl-C interrupts at once.
    """
    import optuna

    from rnn_tui.train.config import TrainConfig
    from rnn_tui.tune.trial import (
        BudgetSpent,
        PreparedCache,
        SearchStopped,
        fit_trial,
        without_test,
    )

    trial_corpus = without_test(corpus)
    cache = cache if cache is not None else PreparedCache()
    started = time.monotonic()
    deadline = started + plan.budget_s if plan.budget_s else None
    mine: list[int] = []

    stop = threading.Event()

    def trial_logs(number: int) -> Callable[[Any], list[Any]] | None:
        if not plan.tensorboard_dir:
            return None
        from pathlib import Path

        from rnn_tui.train.tensorboard import tensorboard_callbacks

        return tensorboard_callbacks(Path(plan.tensorboard_dir) / plan.study_name,
                                     f"trial-{number}")

    def objective(trial: Any) -> float:
        mine.append(trial.number)
        if stop.is_set():
            trial.set_user_attr("stopped", "interrupted")
            raise SearchStopped()
        params = plan.space.suggest(trial)
        settings = {"dataset": plan.dataset, "dataset_options": plan.dataset_options,
                    "epochs": plan.space.epochs, "seed": plan.seed,
                    **apply_params(plan.space.settings, params)}
        settings.setdefault("validation", "auto")
        try:
            config = TrainConfig.from_dict(settings)
        except UserError as error:  # a combination no run accepts: this trial only fails
            trial.set_user_attr("stopped", f"invalid: {error}"[:300])
            raise InvalidCombination() from None
        trial.set_user_attr("config", config.to_dict())
        trial.set_user_attr("host", f"{socket.gethostname()}:{os.getpid()}")
        on_change(trial.study)

        def on_epoch(epoch: int, logs: dict[str, float]) -> None:
            value = logs.get(plan.metric)
            if value is None:
                raise UserError(f"--metric {plan.metric}: the trial logged only "
                                f"{', '.join(sorted(logs))}")
            trial.report(value, epoch)
            on_change(trial.study)
            # after its last epoch a trial is complete: nothing is left to save, and its
            # value must count (successive halving's second rung falls on epoch 3 of 3)
            if epoch < config.epochs and trial.should_prune():
                raise optuna.TrialPruned()

        try:
            history = fit_trial(config, trial_corpus, cache, on_epoch=on_epoch,
                                deadline=deadline, should_stop=stop.is_set,
                                more_callbacks=trial_logs(trial.number))
        except SearchStopped:
            trial.set_user_attr("stopped", "interrupted")
            raise
        except BudgetSpent:
            trial.set_user_attr("stopped", "budget")
            raise optuna.TrialPruned() from None
        value = history[plan.metric][-1]
        if not math.isfinite(value):
            trial.set_user_attr("stopped", "not a number")
            raise optuna.TrialPruned()
        return value

    def after_trial(study_: Any, trial: Any) -> None:
        on_change(study_)
        if stop.is_set():
            study_.stop()

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    timeout = None if deadline is None else max(deadline - time.monotonic(), 0.001)
    with _signal_handler(signal.SIGINT, on_sigint):
        try:
            study.optimize(objective, n_trials=plan.trials, timeout=timeout,
                           gc_after_trial=True, callbacks=[after_trial],
                           catch=(InvalidCombination,))
        except SearchStopped:
            pass
    if stop.is_set():
        raise KeyboardInterrupt
    return mine


@contextlib.contextmanager
def _signal_handler(signum: int, handler: Callable[[int, Any], None]) -> Iterator[None]:
    """``handler`` for ``signum`` while the block runs (only the main thread can set one)."""
    try:
        previous = signal.signal(signum, handler)
    except ValueError:  # not the main thread: Ctrl-C keeps its default
        yield
        return
    try:
        yield
    finally:
        signal.signal(signum, previous)


def best_trial(study: Any) -> Any | None:
    """The best complete trial of the whole study (any process), or None."""
    try:
        return study.best_trial
    except ValueError:
        return None


def budget_too_small(study: Any, mine: list[int], budget_s: float | None) -> str | None:
    """Why the budget could not finish one trial, when that is what happened."""
    if best_trial(study) is not None or not mine or budget_s is None:
        return None
    cut = [t for t in study.get_trials(deepcopy=False)
           if t.number in mine and t.user_attrs.get("stopped") == "budget"]
    if not cut:
        return None
    epochs = len(cut[0].intermediate_values)
    done = f"{epochs} epoch(s)" if epochs else "not one epoch"
    return (f"--budget {budget_s:g}s is too small for one trial: trial {cut[0].number} had "
            f"finished {done} when it ran out; give a longer --budget (or fewer epochs in the "
            "space)")


def retrain_best(study: Any, plan: SearchPlan, model_name: str, *, alias: str | None,
                 on_event: Callable[[Any], None], extras_callbacks=None,
                 corpus: Any = None) -> Any:
    """Train the best trial's config again on the whole training split and publish it with
    a card section ``tuning`` (study, trial number, params, metric, value)."""
    from rnn_tui.train.config import TrainConfig
    from rnn_tui.train.engine import RunExtras, train

    best = best_trial(study)
    if best is None:
        raise RnnTuiError(f"study {plan.study_name!r} has no complete trial yet: nothing to "
                          "retrain")
    settings = dict(best.user_attrs["config"])
    settings.update(validation="none", name=model_name, early_stopping=None)
    config = TrainConfig.from_dict(settings)
    states: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        states[trial.state.name.lower()] = states.get(trial.state.name.lower(), 0) + 1
    tuning = {"study": plan.study_name, "storage": shown_url(plan.storage),
              "trial": best.number, "params": dict(best.params), "metric": plan.metric,
              "value": best.value, "trials": states, "space": plan.space.source}
    extras = RunExtras(callbacks=extras_callbacks, card={"tuning": tuning})
    result = train(config, on_event, restart=True, corpus=corpus, extras=extras)
    if alias and result.model_ref:
        from rnn_tui.registry import open_registries

        version = int(result.model_ref.rsplit(":", 1)[1])
        open_registries().set_alias(model_name, alias, version)
        result.aliases = sorted({*result.aliases, alias})
    return result
