"""The accuracy benchmark: the tutorials' recipes re-run through rnn-tui, next to our presets.

Each recipe is trained by the real command (``python -m rnn_tui train --preset NAME --json``)
in a private home, so what is measured is exactly what a user gets. Results are merged into
``bench/accuracy-results.json`` (one entry per recipe, kept across runs, so one task at a time
fits a CI budget) and ``bench/ACCURACY.md`` is regenerated from all of them.

    python bench/accuracy.py --task imdb            # every IMDB recipe (tutorials + preset)
    python bench/accuracy.py --task nsmc --only nsmc-sentiment
    python bench/accuracy.py --report               # just rewrite ACCURACY.md
    python bench/accuracy.py --list
    python bench/accuracy.py --task imdb --only imdb-sentiment --home /tmp/ship --record
        # no training: record a model already trained by `rnn-tui train --preset` there
    python bench/accuracy.py --task reuters --only reuters-topics --home /tmp/ship
        # keep the trained model, published under the preset's own name in /tmp/ship's
        # registry (how models/ is made: see models/README.md)

Needs the corpora: RNN_TUI_DATA=../shared/datasets. Wall times are for the machine it ran on
(recorded in each entry).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "accuracy-results.json"
REPORT = BENCH / "ACCURACY.md"


@dataclass(frozen=True)
class Recipe:
    preset: str
    role: str  # "tutorial" or "preset"
    overrides: tuple[str, ...] = ()  # extra `rnn-tui train` flags
    why: str = ""  # why the overrides (shown in the report)


@dataclass
class Task:
    title: str
    metric: str  # the test metric's key: "accuracy", or "loss" (the MSE) for regression
    target: str
    recipes: list[Recipe] = field(default_factory=list)


# Epoch caps follow the "re-run here" column where it names one (IMDB 2xLSTM: 3 epochs,
# NSMC: 2, multiplication: 30); the early-stopping recipes keep their patience but are capped
# so that a whole task runs in about an hour on two CPU cores.
TASKS: dict[str, Task] = {
    "imdb": Task("IMDB sentiment (test accuracy, 24,996 reviews)", "accuracy", "0.90", [
        Recipe("tutorial-imdb-onehot-simplernn", "tutorial", ("--epochs", "10"),
               "capped at 10 epochs (the tutorial early-stops near 40)"),
        Recipe("tutorial-imdb-embedding-simplernn", "tutorial", ("--epochs", "10"),
               "capped at 10 epochs (the tutorial early-stops near 23)"),
        Recipe("tutorial-imdb-small-simplernn", "tutorial"),
        Recipe("tutorial-imdb-flatten", "tutorial", ("--epochs", "10"),
               "capped at 10 epochs of 30"),
        Recipe("tutorial-imdb-stacked-simplernn", "tutorial", ("--epochs", "3"),
               "capped at 3 epochs of 15"),
        Recipe("tutorial-imdb-lstm", "tutorial", ("--epochs", "3"),
               "3 epochs, as the issue's re-run"),
        Recipe("tutorial-imdb-conv-lstm", "tutorial"),
        Recipe("imdb-sentiment-2025", "preset"),
        Recipe("imdb-sentiment", "preset"),
    ]),
    "nsmc": Task("NSMC sentiment (test accuracy, 49,996 reviews)", "accuracy", "0.88", [
        Recipe("tutorial-nsmc-lstm", "tutorial", ("--epochs", "2"),
               "2 epochs, as the issue's re-run"),
        Recipe("nsmc-sentiment-2025", "preset"),
        Recipe("nsmc-sentiment", "preset"),
    ]),
    "reuters": Task("Reuters 46 topics (test accuracy, Keras split, 2,246 newswires)",
                    "accuracy", "0.85", [
        Recipe("tutorial-reuters-lstm", "tutorial"),
        Recipe("reuters-topics", "preset"),
    ]),
    "multiplication": Task("Multiplication problem (test MSE, 2,560 training sequences)", "loss",
                           "LSTM and GRU <= 0.001", [
        Recipe("tutorial-multiplication-simplernn", "tutorial", ("--epochs", "30"),
               "30 epochs, as the issue's re-run"),
        Recipe("tutorial-multiplication-lstm", "tutorial", ("--epochs", "30"),
               "30 epochs, as the issue's re-run"),
        Recipe("tutorial-multiplication-gru", "tutorial", ("--epochs", "30"),
               "30 epochs, as the issue's re-run"),
        Recipe("multiplication", "preset"),
        Recipe("multiplication-gru", "preset"),
    ]),
}


def version_figures(home: Path, model_ref: str | None) -> dict:
    """Size on disk and the float16 runtime's own test metrics of a published version."""
    if not model_ref:
        return {}
    name, _, version = model_ref.partition(":")
    folder = home / "models" / name / version
    if not folder.is_dir():
        return {}
    figures = {"size_bytes": sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())}
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    check = (card.get("runtime") or {}).get("check")
    if check:
        figures["runtime_check"] = check
    return figures


# What the presets came from, kept with the table (from the research runs, chosen on
# held-out training data, never on the test split).
NOTES = """## What users type: short, negated and half-typed text (issue 13)

`python bench/short_text.py --dataset imdb --baseline MODEL OLD NEW` prints, side by side on
the test split: accuracy on whole reviews and on their first 5/10/20/40 words, the failure
rate of every `rnn-tui check` capability, size, CPU time per keystroke and of a cold
`predict` (the models alternating), and the NB-LR yardstick. Recipes were chosen on 10% of
the training reviews held out (`--split heldout`, seed 1: a random split shares movies with
training, so its figures run about 0.01 above the test split's); the test split only scores.

IMDB, held out (2,500 reviews), one run each:

| recipe | whole | first 5 / 10 / 20 / 40 words | check: negation, short, invariance |
|---|---|---|---|
| 2025 preset (GRU + bigrams) | 0.908 | 0.648 / 0.700 / 0.728 / 0.773 | 72%, 2%, 29% |
| + 2 crops per review (a prefix of 3-40 words, a sentence) | 0.903 | 0.655 / 0.708 / 0.747 / 0.796 | 70%, 2%, 25% |
| + 2 negation counterfactuals per review (network alone) | 0.910 | 0.657 / 0.702 / 0.748 / 0.784 | 26%, 10%, 8% |
| **shipped**: crops + counterfactuals that also give the predicate alone | **0.911** | 0.654 / 0.699 / 0.750 / 0.792 | 35%, 2%, 6% |
| crops + counterfactuals + the linear channel (NB-LR, C=1e4, x1.5) | 0.913 | 0.645 / 0.692 / 0.746 / 0.793 | 15%, 29%, 27% |
| GRU without bigrams + crops + linear channel (200k bigrams, 200k trigrams, x1) | 0.922 | 0.660 / 0.722 / 0.764 / 0.800 | 65%, 8%, 27% |

- **Crops** (`--crops`) teach short text: +0.02 on the first 20 and 40 words, -0.005 on whole
  reviews.
- **Negation counterfactuals** (`--negations`): clauses of the training reviews whose predicate
  is a strong sentiment word (found in the training texts), kept as written and negated with
  the label flipped. Review-level labels alone teach the wrong thing: 59% of the training
  reviews containing "not bad" are negative, 79% of those with "wasn't bad". Negation failures
  fell from 72% to 26%, contrast from 69% to 47%, invariance from 29% to 8%; but with only the
  pairs, a bare adjective appears as often in one class as in the other and one-word texts
  drifted to 0.5 ("fantastic" 0.42): the shipped generator also adds the predicate alone.
  The check's English negation templates are built like these clauses (a copula and an
  adjective), so its negation figure is the optimistic one; its fixed sentences ("Couldn't
  have been better", "I can't say I enjoyed it") are still mostly wrong.
- **The linear channel** (`linear:W,c=C`, an NB-weighted logistic regression on every id
  stream, fitted after the network and added to its logit) gave the best whole-review
  accuracy held out (0.922) but only 0.900-0.902 on the test split, and it makes one-word texts
  erratic: the mean of a one-word text's n-gram weights is the weight of one rare n-gram
  ("brilliant" -> negative 0.02, "mediocre" -> positive 1.0). Not shipped; the arch item stays
  for long-text tasks. Its fit is also slow (liblinear at C=1e4: 3.5-7.5 min on 80k rows).
- **The yardstick**: NB-LR on word 1-3-grams with binary features (scikit-learn, 5.2 M
  n-grams) scores 0.916 on the IMDB test split; on the shipped model's own ids (20k words,
  50k bigrams, mean features, C=1e3) 0.910. Neither recurrent recipe reaches it on whole
  reviews; the best here, at 0.898-0.902 on test, is 0.014 short.

On the test splits (`bench/short_text.py`, 2026-12-07, the shared 2-core machine; the
keystroke figures are CPU time over 20 reviews typed 200 characters each, the two models
alternating review by review; cold predict is the CPU time of a whole `rnn-tui predict`
process, median of 5 after a warm-up, alternating):

| model | whole | first 5 / 10 / 20 / 40 words | check (all cases) | keystroke p50 / p99 | cold predict | size |
|---|---|---|---|---|---|---|
| imdb-sentiment 2025 | 0.8962 | 0.616 / 0.665 / 0.707 / 0.753 | 39.6% | 118 / 224 us | 0.247 s | 13.2 MB |
| imdb-sentiment (shipped) | **0.9019** | 0.625 / 0.674 / 0.717 / 0.763 | 27.8% | 117 / 217 us | 0.243 s | 13.2 MB |
| NB-LR yardstick on its ids (C=1e3) | 0.9096 | 0.623 / 0.677 / 0.718 / 0.771 | 34.1% | | | 0.3 MB |
| nsmc-sentiment 2025 | 0.8787 | 0.830 / 0.866 / 0.876 / 0.879 | 18.8% | 222 / 4,944 us | 0.250 s | 11.7 MB |
| nsmc-sentiment (shipped) | 0.8754 | 0.829 / 0.864 / 0.873 / 0.875 | 12.7% | 210 / 4,897 us | 0.253 s | 11.7 MB |
| NB-LR yardstick on its ids (C=100) | 0.8733 | 0.827 / 0.861 / 0.871 / 0.873 | 20.7% | | | 0.3 MB |

Check failure rates, English (2025 -> shipped): negation 72% -> 24%, double negation 65% ->
86%, contrast 59% -> 41%, intensifiers 0% -> 6%, typos 47% -> 42%, emoji and slang 17% ->
15%, invariance 21% -> 17%, short 4% -> 0%. Korean: negation 61% -> 32%, double negation
71% -> 82%, contrast 5% -> 4%, the rest 0-11% before and after. NSMC reviews are short (879
keystrokes in all), so the 20 first keystrokes of fresh sessions set the p99: measured apart
on the shipped model, a session's first update took 0.56 ms (median, at most 9.4 ms) and the
2,148 later ones p50 204 / p99 418 us.

NSMC: crops (1 prefix) and one counterfactual per review (안 + predicate, or stem + -지 않다 with
tense and politeness kept, by Kiwi) held out gave 0.8765 on whole reviews, negation failures
61% -> 32%, on test 0.875 (-0.003 against the 2025 preset, 0.879). The linear channel at
C=100 added nothing held out (0.877); at C=1e3 liblinear took over 20 minutes on 280k rows.

## How the presets were chosen, and what was tried

Every choice was made on data held out of the training split (for IMDB a movie-disjoint
block of the training files, since a random split shares movies and overestimates); the test
split only scored the result. One seed per run, so differences under about 0.003 are noise.

- **IMDB** (target 0.90, shipped 0.896): a unidirectional GRU(64) on regex words plus a bigram
  embedding channel, spatial dropout 0.5, max + mean + last-state pooling, Adam 1e-3 decayed
  linearly over 3 epochs. Plain word GRUs reached 0.873-0.880; the bigram channel gave +0.015.
  Dropout, schedule, 4 epochs, GRU(128), a trigram channel, batch 32, punctuation tokens, a
  fastText-style averaged branch, weight averaging and a two-model ensemble all landed in
  0.894-0.9005: a plateau. The best single run (0.9005) had 150k bigrams and 6.75 M
  parameters, about 27 MB at two float16 copies; the shipped cut to 20k words and 50k bigrams
  (2.9 M) costs about 0.002.
- **NSMC** (target 0.88, shipped 0.879): Hangul syllables with a word-boundary token, syllable
  bigrams and trigrams, GRU(128). Kiwi morphemes + bigrams scored the same (0.876 with 10% held
  out) but load a 2.3 s analyser; words split into stem + last syllables with bigrams
  0.855, a 256-unit GRU or two stacked GRUs 0.870, the tutorial-like word LSTM 0.823.
  Training on every review (nothing held out, as the epoch count was already fixed) gave
  the shipped 0.879.
- **Reuters** (target 0.85, shipped 0.882): words (20k) into a GRU(128) with pooling, early
  stopping on 10% held out; a run with a bigram channel only matched it on the held-out data
  (0.893 by epoch 9) and was not finished.
- **Multiplication** (target 0.001, shipped 5.0e-5 LSTM, 2.5e-5 GRU): the tutorials' plain
  LSTM sits at the trivial 0.05 (predicting the mean) for ~25 epochs before it finds the
  markers; a Dense(64) layer after the recurrent one, Adam 2e-3 with cosine decay, gradient
  clipping and 150 epochs get both cells far below the target.
"""


def run_recipe(recipe: Recipe, home: Path, keep_name: bool = False) -> dict:
    """Train one recipe through the CLI and collect its figures from the event stream.

    ``keep_name`` publishes under the preset's own name (``--home``), else ``bench-NAME``.
    """
    name = recipe.preset if keep_name else f"bench-{recipe.preset}"
    command = [sys.executable, "-m", "rnn_tui", "train", "--preset", recipe.preset,
               "--name", name, "--json", "--restart", *recipe.overrides]
    env = dict(os.environ, RNN_TUI_HOME=str(home))
    started = time.time()
    process = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.time() - started
    events = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    by_kind: dict[str, list[dict]] = {}
    for event in events:
        by_kind.setdefault(event["event"], []).append(event)
    if process.returncode != 0 or "RunFinished" not in by_kind:
        failure = (by_kind.get("RunFailed") or [{}])[-1].get("message") or process.stderr[-400:]
        return {"preset": recipe.preset, "ok": False, "error": failure.strip(), "wall_s": wall}
    start = by_kind["RunStarted"][0]
    finish = by_kind["RunFinished"][-1]
    epoch_seconds = [e["seconds"] for e in by_kind.get("EpochEnded", [])]
    return {
        "preset": recipe.preset,
        "role": recipe.role,
        "ok": True,
        "overrides": list(recipe.overrides),
        "why": recipe.why,
        "test": finish["test_metrics"],
        "epochs_run": finish["epochs_run"],
        "best_epoch": finish.get("best_epoch"),
        "seconds_per_epoch": (sum(epoch_seconds) / len(epoch_seconds)) if epoch_seconds else None,
        "train_s": finish["duration_s"],
        "wall_s": wall,
        "params": start["params"],
        "arch": start["config"].get("arch"),
        "device": start.get("device"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "date": time.strftime("%Y-%m-%d"),
        **version_figures(home, finish.get("model_ref")),
    }


def entry_from_card(recipe: Recipe, home: Path) -> dict:
    """The figures of a model already trained by ``rnn-tui train --preset NAME`` in ``home``
    (as models/README.md makes the shipped ones), read from its card."""
    folder = home / "models" / recipe.preset
    versions = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) \
        if folder.is_dir() else []
    if not versions:
        return {"preset": recipe.preset, "ok": False, "error": f"no model in {folder}",
                "wall_s": 0.0}
    card = json.loads((folder / str(versions[-1]) / "card.json").read_text(encoding="utf-8"))
    training = card["training"]
    seconds = training.get("epoch_seconds") or []
    params = {key: 0 for key in ("total", "trainable", "non_trainable")}
    for layer in card.get("layers", []):
        params["total"] += layer.get("params", 0)
        params["trainable"] += layer.get("trainable_params", 0)
    params["non_trainable"] = params["total"] - params["trainable"]
    return {
        "preset": recipe.preset, "role": recipe.role, "ok": True,
        "overrides": list(recipe.overrides), "why": recipe.why,
        "test": card["metrics"]["test"], "epochs_run": training.get("epochs_run"),
        "best_epoch": None,
        "seconds_per_epoch": sum(seconds) / len(seconds) if seconds else None,
        "train_s": training.get("duration_s"), "wall_s": training.get("duration_s"),
        "params": params, "arch": training["config"].get("arch"),
        "device": training.get("device"), "machine": f"{platform.machine()}, "
        f"{os.cpu_count()} CPUs", "date": training.get("finished", "")[:10],
        **version_figures(home, f"{recipe.preset}:{versions[-1]}"),
    }


def load_results() -> dict[str, dict]:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text(encoding="utf-8"))
    return {}


def save_results(results: dict[str, dict]) -> None:
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def keeps_best_epoch(recipe: Recipe) -> bool:
    """Whether the recipe's run keeps its best validation epoch (early stopping with
    restore_best_weights) rather than its last."""
    from rnn_tui.train.presets import preset_config

    config = preset_config(recipe.preset)
    return bool(config.early_stopping and config.restore_best_weights)


def _metric(entry: dict, metric: str) -> str:
    value = entry["test"].get(metric)
    if value is None:
        return "-"
    if metric == "loss":  # the MSE of the regression tasks: small values in full
        return f"{value:.5f}" if value >= 1e-3 else f"{value:.1e}"
    return f"{value:.3f}"


def write_report(results: dict[str, dict]) -> str:
    lines = [
        "# Accuracy: the tutorials' recipes re-run through rnn-tui, and our presets",
        "",
        "Generated by `python bench/accuracy.py` (see its docstring); every row is a real",
        "`rnn-tui train --preset NAME` run on the test split of `../shared/datasets`, trained on",
        "the training split only. Seconds are wall-clock on the machine named in each task's",
        "footnote; a shared 2-core CPU is noisy, so compare seconds within a table only.",
        "Epochs: how many ran; \"kept N\" where early stopping restored its best validation",
        "epoch, else the last epoch's weights are the model. Size: the published version folder",
        "(model.keras, runtime.npz, vocabularies, card).",
        "",
    ]
    for task_name, task in TASKS.items():
        lines += [f"## {task.title}", "", f"Target: **{task.target}**.", "",
                  f"| recipe | kind | test {'MSE' if task.metric == 'loss' else task.metric} "
                  "| epochs | s/epoch | parameters | size | notes |",
                  "|---|---|---|---|---|---|---|---|"]
        machines = set()
        for recipe in task.recipes:
            entry = results.get(recipe.preset)
            if entry is None:
                lines.append(f"| `{recipe.preset}` | {recipe.role} | not run yet | | | | | |")
                continue
            if not entry.get("ok"):
                lines.append(f"| `{recipe.preset}` | {recipe.role} | failed | | | | | "
                             f"{entry.get('error', '')[:80]} |")
                continue
            machines.add(f"{entry['machine']}, {entry['device']}, {entry['date']}")
            params = entry["params"]
            param_text = f"{params.get('total', 0):,}"
            if params.get("non_trainable"):
                param_text += f" ({params['trainable']:,} trainable)"
            per_epoch = entry["seconds_per_epoch"]
            epochs = f"{entry['epochs_run']}"
            if keeps_best_epoch(recipe) and entry.get("best_epoch"):
                epochs += f" (kept {entry['best_epoch']})"
            size = entry.get("size_bytes")
            size_text = f"{size / 1e6:.1f} MB" if size else "-"
            notes = entry.get("why", "")
            check = entry.get("runtime_check") or {}
            if check.get("runtime_accuracy") is not None:
                notes = (notes + "; " if notes else "") + (
                    f"float16 runtime {check['runtime_accuracy']:.4f}, agrees with Keras on "
                    f"{check['agreement']:.2%} of rows")
            per_epoch_text = f"{per_epoch:.0f}" if per_epoch is not None else "-"
            lines.append(
                f"| `{recipe.preset}` | {recipe.role} | {_metric(entry, task.metric)} | {epochs} | "
                f"{per_epoch_text} | {param_text} | {size_text} | {notes} |")
        if machines:
            lines += ["", "Ran on: " + "; ".join(sorted(machines)) + "."]
        lines.append("")
    lines += NOTES.splitlines()
    text = "\n".join(lines) + "\n"
    REPORT.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), action="append")
    parser.add_argument("--only", action="append", help="run only these presets")
    parser.add_argument("--report", action="store_true", help="only rewrite ACCURACY.md")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--record", action="store_true",
                        help="do not train: record the figures of the models already trained "
                             "in --home (by `rnn-tui train --preset NAME`)")
    parser.add_argument("--home", type=Path,
                        help="train in this home and publish under the presets' own names "
                             "(default: a temporary home, names bench-PRESET)")
    args = parser.parse_args()
    if args.list:
        for task_name, task in TASKS.items():
            print(task_name, ":", ", ".join(r.preset for r in task.recipes))
        return
    results = load_results()
    if args.record:
        if args.home is None:
            parser.error("--record reads the models of --home")
        for task_name in args.task or list(TASKS):
            for recipe in TASKS[task_name].recipes:
                if args.only and recipe.preset not in args.only:
                    continue
                entry = entry_from_card(recipe, args.home)
                if entry["ok"]:
                    results[recipe.preset] = {**entry, "task": task_name}
                    print(f"[{task_name}] recorded {recipe.preset}: test {entry['test']}")
        save_results(results)
    elif not args.report:
        tasks = args.task or list(TASKS)
        with tempfile.TemporaryDirectory(prefix="rnn-tui-accuracy-") as scratch:
            home = args.home or Path(scratch)
            for task_name in tasks:
                for recipe in TASKS[task_name].recipes:
                    if args.only and recipe.preset not in args.only:
                        continue
                    print(f"[{task_name}] training {recipe.preset} ...", flush=True)
                    entry = run_recipe(recipe, home, keep_name=args.home is not None)
                    entry["task"] = task_name
                    results[recipe.preset] = entry
                    save_results(results)
                    summary = (f"test {entry['test']}" if entry.get("ok")
                               else f"FAILED: {entry.get('error')}")
                    print(f"  {summary} ({entry['wall_s']:.0f} s)", flush=True)
    print(write_report(results))


if __name__ == "__main__":
    main()
