"""From a /train, /compare or /tune command to the ``rnn-tui`` arguments of each run.

Plain Python. ``/compare`` is the tutorials' SimpleRNN vs LSTM vs GRU comparison in demo size:
on the multiplication problem by default (synthetic, so it works offline on any machine) with
the tutorial's two-layer recurrent nets but fewer epochs, or on a small subset of a text
corpus (``/compare imdb``).

>>> [plan.label for plan in compare_plans(None)]
['simplernn', 'lstm', 'gru']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnn_tui.errors import UserError
from rnn_tui.tui.commands import SlashCommand

COMPARE_ARCHS = ("simplernn", "lstm", "gru")
COMPARE_EPOCHS = 5
# The synthetic task of tutorial 000: 2 560 sequences of 100 steps, two recurrent layers.
MULTIPLICATION_ARGUMENTS = ["--epochs", str(COMPARE_EPOCHS)]
# A text corpus, demo size: a few thousand reviews, short sequences, small nets.
TEXT_COMPARE_ARGUMENTS = ["--train-limit", "2000", "--maxlen", "100", "--num-words", "5000",
                          "--epochs", "3", "--batch-size", "64"]


@dataclass(frozen=True)
class RunPlan:
    """One run to start: its card label and its CLI arguments after ``rnn-tui``."""

    label: str
    arguments: list[str]


def train_plan(command: SlashCommand) -> RunPlan:
    """``/train DATASET --opt value ...`` -> ``train --dataset DATASET --opt value ...``."""
    words = (["--dataset", command.argument()] if command.argument() else []) \
        + command.option_words()
    config = checked_config(words)
    label = config.name or " ".join(part for part in (
        config.preset or config.dataset, command.options.get("--arch") or "") if part)
    return RunPlan(label, ["train", *words])


def checked_config(words: list[str]) -> Any:
    """The TrainConfig that ``rnn-tui train WORDS`` would run, or a UserError saying why not.

    Checked here, before any process starts, by the train command's own parser and config
    builder (``rnn_tui.train.options``), so a bad argument gets the CLI's exact message at
    once; unknown corpora and architectures too (with suggestions).
    """
    from rnn_tui.data import catalog, tabular
    from rnn_tui.nets import resolve_arch
    from rnn_tui.train.options import build_config, parse_words

    config = build_config(parse_words(words))
    synthetic = False
    if config.dataset in catalog.CORPORA:
        synthetic = catalog.get(config.dataset).synthetic
    elif not tabular.looks_like_path(config.dataset):
        catalog.get(config.dataset)  # raises NotFoundError naming the known corpora
    if config.arch_spec is None:
        resolve_arch(config.arch, config.arch_options,
                     input_kind="sequence" if synthetic else "tokens")
    return config


def compare_plans(dataset: str | None) -> list[RunPlan]:
    """Three runs, SimpleRNN then LSTM then GRU, each published as ``compare-DATASET-ARCH``."""
    dataset = dataset or "multiplication"
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(dataset).stem.lower()).strip("-") or "data"
    plans = []
    for arch in COMPARE_ARCHS:
        name = f"compare-{stem}-{arch}"
        if dataset == "multiplication":
            words = ["--preset", f"tutorial-multiplication-{arch}", *MULTIPLICATION_ARGUMENTS,
                     "--name", name]
        else:
            words = ["--dataset", dataset, "--arch", arch, *TEXT_COMPARE_ARGUMENTS,
                     "--name", name]
        checked_config(words)
        plans.append(RunPlan(arch, ["train", *words]))
    return plans


DEFAULT_TUNE_BUDGET = "20m"  # a /tune with neither --budget nor --trials (the issue's own)


def tune_plan(command: SlashCommand, default_dataset: str) -> RunPlan:
    """``/tune [DATASET] --budget 5m ...`` -> ``tune --dataset DATASET --budget 5m ...``.

    What can be checked without loading the corpus is checked here, by the code the CLI
    checks it with (the budget, the space file, the names), so a mistake is said at once
    rather than by a process that imports TensorFlow first.
    """
    from rnn_tui.data import catalog, tabular
    from rnn_tui.tune.study import parse_budget

    dataset = command.argument() or default_dataset
    if dataset not in catalog.CORPORA and not tabular.looks_like_path(dataset):
        catalog.get(dataset)  # raises NotFoundError naming the known corpora
    options = dict(command.options)
    if options.get("--budget"):
        parse_budget(options["--budget"])
    if "--budget" not in options and "--trials" not in options:
        options["--budget"] = DEFAULT_TUNE_BUDGET
    if options.get("--trials") is not None and int(options["--trials"]) < 0:
        raise UserError("--trials must be 0 or more")
    if options.get("--space") not in (None, "default"):
        from rnn_tui.tune.space import load_space

        load_space(options["--space"])
    if options.get("--name"):
        from rnn_tui.registry.names import check_name

        check_name(options["--name"])
    if options.get("--alias"):
        from rnn_tui.registry.names import check_alias

        check_alias(options["--alias"])
    words = ["tune", "--dataset", dataset]
    for option, value in options.items():
        words += [option] if value is None else [option, value]
    return RunPlan(f"tune {dataset}", words)
