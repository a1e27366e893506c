"""Benchmark: ``rnn-tui tune`` on IMDB within a budget, with and without pruning.

Two studies search the same default space on the same corpus: one with the pruner
``rnn-tui tune`` uses by default (successive halving; ``--pruner median`` for the median
rule), one without (the peer: every trial runs all its epochs). Both start from the same
sampler seed, so their first (random) trials try the same settings. They run in this one
process, as ``rnn-tui tune`` runs (``run_search``, each arm with its own prepared-data
cache), alternately one trial at a time, whichever arm has used less of its budget going
next, so load on the shared machine hits both alike; each arm gets ``--budget`` of trial
time (a trial still running when its arm's budget ends is stopped there, as ``tune
--budget`` does). Then the pruning arm's best trial
is trained again on the whole training split and published (``tune --trials 0``), and its
test accuracy is set beside the best shipped preset's (``imdb-sentiment``'s card).

Printed: both trial tables; per arm the median trial time with its IQR and min-max over
finished trials; the cut in median trial time; the tuned model's test accuracy against
the preset's.

    RNN_TUI_DATA=../shared/datasets .venv/bin/python bench/tune.py --budget 20m
    .venv/bin/python bench/tune.py --budget 6m --wall-limit 40m   # a shorter, honest run

Targets (issue 18): test accuracy within 0.5 points of the preset; median trial time cut
by >= 30 % with pruning.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def spread(values: list[float]) -> str:
    if not values:
        return "no finished trial"
    ordered = sorted(values)
    if len(ordered) >= 4:
        quartiles = statistics.quantiles(ordered, n=4)
        iqr = f"IQR {quartiles[0]:.0f}-{quartiles[2]:.0f}s, "
    else:
        iqr = ""
    return (f"median {statistics.median(ordered):.0f}s ({iqr}min-max {ordered[0]:.0f}-"
            f"{ordered[-1]:.0f}s, {len(ordered)} trials)")


def trial_seconds(study) -> list[float]:
    """Durations of the trials that ended on their own (complete or pruned by the median
    rule), not those stopped by the end of the budget."""
    seconds = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state.name in ("COMPLETE", "PRUNED") and not trial.user_attrs.get("stopped") \
                and trial.datetime_complete and trial.datetime_start:
            seconds.append((trial.datetime_complete - trial.datetime_start).total_seconds())
    return seconds


def used_seconds(study) -> float:
    return sum((t.datetime_complete - t.datetime_start).total_seconds()
               for t in study.get_trials(deepcopy=False)
               if t.datetime_complete and t.datetime_start)


def main() -> None:
    from predict_common import setup_environment

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="imdb")
    parser.add_argument("--budget", default="20m", help="trial time per arm")
    parser.add_argument("--wall-limit", default="90m",
                        help="stop starting trials after this much wall time (both arms)")
    parser.add_argument("--preset", default="imdb-sentiment")
    parser.add_argument("--home", help="rnn-tui home for the studies and the tuned model")
    parser.add_argument("--pruner", default="halving", choices=("halving", "median"),
                        help="the pruning arm's pruner (the peer arm prunes nothing)")
    parser.add_argument("--sampler-seed", type=int, default=7,
                        help="both arms' TPE seed: their first (random) trials are the same")
    args = parser.parse_args()
    home = setup_environment(args.home or str(ROOT / ".bench-tune-home"))

    import optuna

    from rnn_tui.registry import open_registries
    from rnn_tui.tune.study import parse_budget
    from rnn_tui.tune.view import trial_rows, trial_table

    from rnn_tui.train.config import plain_word

    word = plain_word(args.dataset)
    budget = parse_budget(args.budget)
    wall_limit = parse_budget(args.wall_limit)
    (home / "tune").mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{home / 'tune' / 'bench.db'}"
    arms = {"pruning": f"bench-{word}-{args.pruner}", "no pruning": f"bench-{word}-none"}

    def load(arm):
        try:
            return optuna.load_study(study_name=arms[arm], storage=storage)
        except KeyError:  # not created yet
            return None

    from rnn_tui.data import load_corpus
    from rnn_tui.tune.space import default_space
    from rnn_tui.tune.study import SearchPlan, open_study, run_search
    from rnn_tui.tune.trial import PreparedCache
    from rnn_tui.tune.view import row_line

    corpus = load_corpus(args.dataset)
    space = default_space(corpus.task, text=corpus.is_text)
    plans = {arm: SearchPlan(dataset=args.dataset, dataset_options={}, space=space,
                             metric="val_accuracy", study_name=name, storage=storage,
                             pruner=args.pruner if arm == "pruning" else "none",
                             sampler_seed=args.sampler_seed)
             for arm, name in arms.items()}
    studies = {arm: open_study(plan, corpus.task) for arm, plan in plans.items()}
    caches = {arm: PreparedCache() for arm in arms}  # as one `tune` process keeps its own

    # warm-up, timed in neither arm: TensorFlow's first graph (a few seconds) would
    # otherwise land in whichever arm runs the first trial
    from rnn_tui.train.config import TrainConfig
    from rnn_tui.tune.trial import fit_trial, without_test

    warm = TrainConfig.from_dict({"dataset": args.dataset, "epochs": 1, "seed": 42,
                                  "validation": "auto", "train_limit": 512})
    fit_trial(warm, without_test(corpus), PreparedCache(), on_epoch=lambda epoch, logs: None)

    started = time.monotonic()
    while time.monotonic() - started < wall_limit:
        used = {arm: used_seconds(study) for arm, study in studies.items()}
        arm = min(used, key=used.get)
        left = budget - used[arm]
        if left <= 5:
            break
        plan = dataclasses.replace(plans[arm], trials=1, budget_s=left)
        numbers = run_search(plan, corpus, studies[arm], on_change=lambda study: None,
                             cache=caches[arm])
        rows = {row.number: row for row in trial_rows(studies[arm])}
        for number in numbers:
            print(f"[{(time.monotonic() - started) / 60:5.1f} min] {arm}: "
                  f"{row_line(rows[number], 'val_accuracy')}", flush=True)

    from rich.console import Console

    console = Console(width=140)
    medians = {}
    for arm, name in arms.items():
        study = load(arm)
        if study is None:
            print(f"{arm}: no study")
            continue
        console.print(trial_table(trial_rows(study), "val_accuracy",
                                  f"{arm}: study {name}, {used_seconds(study) / 60:.1f} min "
                                  "of trials"))
        seconds = trial_seconds(study)
        medians[arm] = statistics.median(seconds) if seconds else None
        print(f"{arm}: trial time {spread(seconds)}")
    if all(medians.values()) and len(medians) == 2:
        cut = 1 - medians["pruning"] / medians["no pruning"]
        print(f"median trial time cut by pruning: {100 * cut:.0f} % (target >= 30 %: "
              f"{'met' if cut >= 0.30 else 'NOT met'})")

    print("retraining the pruning arm's best trial on the whole training split ...",
          flush=True)
    retrain = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "tune", "--dataset", args.dataset, "--storage",
         storage, "--study", arms["pruning"], "--trials", "0", "--name",
         f"{word}-tuned-bench", "--plain"],
        capture_output=True, text=True, env=os.environ.copy())
    print("\n".join(retrain.stdout.splitlines()[-4:]))
    if retrain.returncode != 0:
        print(retrain.stderr[-2000:], file=sys.stderr)
        return
    registries = open_registries()
    tuned = registries.resolve(f"{word}-tuned-bench").card
    preset = registries.resolve(args.preset).card
    tuned_accuracy = tuned["metrics"]["test"]["accuracy"]
    preset_accuracy = preset["metrics"]["test"]["accuracy"]
    gap = 100 * (preset_accuracy - tuned_accuracy)
    print(f"test accuracy: tuned {tuned_accuracy:.4f} (trial {tuned['tuning']['trial']}, "
          f"{json.dumps(tuned['tuning']['params'])}) vs {args.preset} {preset_accuracy:.4f}: "
          f"{gap:+.2f} points behind (target <= 0.5: {'met' if gap <= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
