"""From a /train or /compare command to the ``rnn-tui train`` arguments of each run.

Plain Python. ``/compare`` is the tutorials' SimpleRNN vs LSTM vs GRU comparison in demo size:
on the multiplication problem by default (synthetic, so it works offline on any machine) with
the tutorial's two-layer recurrent nets but fewer epochs, or on a small subset of a text
corpus (``/compare imdb``).

>>> [plan.label for plan in compare_plans(None)]
['simplernn', 'lstm', 'gru']
"""

from __future__ import annotations

from dataclasses import dataclass

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
    dataset = command.argument()
    if dataset is None and "--preset" not in command.options:
        raise UserError("/train needs a DATASET or --preset NAME (try /train imdb)")
    arguments = ["train"]
    if dataset is not None:
        arguments += ["--dataset", dataset]
    for option, value in command.options.items():
        arguments += [option, value]
    parts = [dataset or command.options.get("--preset", ""),
             command.options.get("--arch", "")]
    label = command.options.get("--name") or " ".join(part for part in parts if part)
    return RunPlan(label, arguments)


def compare_plans(dataset: str | None) -> list[RunPlan]:
    """Three runs, SimpleRNN then LSTM then GRU, each published as ``compare-DATASET-ARCH``."""
    dataset = dataset or "multiplication"
    plans = []
    for arch in COMPARE_ARCHS:
        name = f"compare-{dataset}-{arch}"
        if dataset == "multiplication":
            arguments = ["train", "--preset", f"tutorial-multiplication-{arch}",
                         *MULTIPLICATION_ARGUMENTS, "--name", name]
        else:
            arguments = ["train", "--dataset", dataset, "--arch", arch,
                         *TEXT_COMPARE_ARGUMENTS, "--name", name]
        plans.append(RunPlan(arch, arguments))
    return plans
