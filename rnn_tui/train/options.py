"""The options of ``rnn-tui train`` and the TrainConfig they make: one definition for both
faces. The CLI's ``train`` command is declared with them (``train_options``); the app's
``/train`` parses its words with the same parser (``parse_words``), so both accept, complete
and refuse exactly the same things, with the same messages.

>>> config = build_config(parse_words(["--dataset", "imdb", "--arch", "gru", "--epochs", "2"]))
>>> config.dataset, config.arch, config.epochs
('imdb', 'gru', 2)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from rnn_tui.errors import UserError

# Options that only make sense on a command line (their output is for a terminal or a
# program); the app's /train leaves them out.
CLI_ONLY = frozenset({"--json", "--plain", "--list-presets", "--list-archs", "--help"})

# flag name -> TrainConfig field, for flags that map one to one.
_CONFIG_FLAGS = {
    "dataset": "dataset", "num_words": "num_words", "level": "level", "cleaner": "cleaner",
    "max_token_chars": "max_token_chars", "maxlen": "maxlen", "padding": "padding",
    "truncating": "truncating", "optimizer": "optimizer", "lr": "learning_rate",
    "clipnorm": "clipnorm", "epochs": "epochs", "batch_size": "batch_size",
    "validation": "validation", "patience": "early_stopping", "seed": "seed",
    "train_limit": "train_limit", "crops": "crops",
    "negations": "negations", "name": "name", "pattern": "pattern",
    "subword_suffix": "subword_suffix", "space_token": "space_token",
    "lr_schedule": "lr_schedule", "ema": "ema", "bucketing": "bucketing",
}
# flag name -> arch_options key (knobs of the named architectures).
_ARCH_FLAGS = ("units", "layers", "embedding_dim", "dropout", "recurrent_dropout",
               "spatial_dropout", "bidirectional", "pool", "dense", "vectors", "head",
               "ngram_dim")


def _parse_numbers(value: str | None, flag: str, example: str = "2,3") -> list[int] | None:
    """"2" or "2,3" -> [2] or [2, 3]."""
    if value is None:
        return None
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        numbers = []
    if not numbers:
        raise UserError(f"{flag} takes a number or a comma list such as {example}, "
                        f"not {value!r}")
    return numbers


def _parse_units(value: str | None) -> int | list[int] | None:
    """"64" -> 64, "64,32" -> [64, 32] (one size per recurrent layer)."""
    sizes = _parse_numbers(value, "--units", example="64,32")
    if sizes is None:
        return None
    if any(size < 1 for size in sizes):
        raise UserError(f"--units must be positive, not {value!r}")
    return sizes[0] if len(sizes) == 1 else sizes


def parse_option(text: str) -> tuple[str, Any]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise UserError(f"--dataset-option takes KEY=VALUE, not {text!r}")
    try:
        parsed: Any = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


def build_config(options: dict[str, Any]) -> Any:
    """The TrainConfig for the parsed flags (flags given override the preset's values)."""
    from rnn_tui.nets import load_spec_file
    from rnn_tui.train.config import TrainConfig
    from rnn_tui.train.presets import get_preset

    settings: dict[str, Any] = {}
    if options.get("preset"):
        preset = get_preset(options["preset"])
        settings.update(json.loads(json.dumps(preset.settings)))
        settings["preset"] = options["preset"]
    for flag, field_name in _CONFIG_FLAGS.items():
        if options.get(flag) is not None:
            settings[field_name] = options[flag]
    if options.get("oov") is not None:
        settings["oov_token"] = options["oov"] or None
    if options.get("dataset_option"):
        dataset_options = dict(settings.get("dataset_options") or {})
        dataset_options.update(parse_option(text) for text in options["dataset_option"])
        settings["dataset_options"] = dataset_options
    if options.get("arch_file"):
        if options.get("arch"):
            raise UserError("give --arch or --arch-file, not both")
        settings["arch_spec"] = load_spec_file(options["arch_file"])
        settings["arch"] = None
    elif options.get("arch"):
        settings["arch"] = options["arch"]
        settings["arch_spec"] = None
        if options.get("preset"):
            settings["arch_options"] = {}
    knobs = dict(settings.get("arch_options") or {})
    for flag in _ARCH_FLAGS:
        value = _parse_units(options.get("units")) if flag == "units" else options.get(flag)
        if value is not None:
            knobs[flag] = str(Path(value)) if flag == "vectors" else value
    if options.get("freeze_vectors"):
        knobs["vectors_trainable"] = False
    for flag in ("scale_lr", "mixed_precision", "squeeze_repeats", "float16_weights"):
        if options.get(flag):
            settings[flag] = True
    ngrams = _parse_numbers(options.get("ngrams"), "--ngrams")
    if ngrams is not None:
        settings["ngrams"] = [] if ngrams == [1] else ngrams
    words = _parse_numbers(options.get("ngram_words"), "--ngram-words")
    if words is not None:
        settings["ngram_words"] = words[0] if len(words) == 1 else words
    if knobs:
        settings["arch_options"] = knobs
    if not settings.get("dataset"):
        raise UserError("no dataset: give --dataset NAME (or a preset: --preset NAME; "
                        "see --list-presets)")
    return TrainConfig.from_dict(settings)


def build_placement(options: dict[str, Any]) -> Any:
    """The devices and strategy the flags ask for (``rnn_tui.train.distribute``)."""
    from rnn_tui.train.distribute import Placement

    return Placement.from_flags(strategy=options.get("strategy"), devices=options.get("devices"),
                                workers=options.get("workers"),
                                worker_index=options.get("worker_index"))


# The options, in the order ``rnn-tui train --help`` lists them.
_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--dataset", "-d",
                 help="Corpus name (rnn-tui data list) or a CSV/TSV/JSONL path."),
    click.option("--dataset-option", multiple=True, metavar="KEY=VALUE",
                 help="Corpus loader option, e.g. train_size=2560 (repeatable)."),
    click.option("--preset", "-p", help="Start from a named recipe (see --list-presets)."),
    click.option("--list-presets", is_flag=True, help="List the presets and exit."),
    click.option("--list-archs", is_flag=True,
                 help="List the architectures and the compact syntax."),
    click.option("--arch", "-a", help="Named architecture or a compact spec (see below). [lstm]"),
    click.option("--arch-file", type=click.Path(dir_okay=False), help="Architecture spec file."),
    click.option("--units", help="Units per recurrent layer: 64, or one per layer: 64,32."),
    click.option("--layers", type=int, help="Number of recurrent layers."),
    click.option("--embedding-dim", type=int, help="Embedding size."),
    click.option("--dropout", type=float, help="Input dropout of the recurrent layers."),
    click.option("--recurrent-dropout", type=float,
                 help="Recurrent dropout (forces the slow kernel on a GPU)."),
    click.option("--spatial-dropout", type=float, help="SpatialDropout1D after the embedding."),
    click.option("--bidirectional/--no-bidirectional", default=None,
                 help="Wrap the recurrent layers in Bidirectional."),
    click.option("--pool", type=click.Choice(["max", "average", "max+average", "max+last",
                                             "average+last", "max+average+last"]),
                 help="Pool over time instead of the last state (+last: with it)."),
    click.option("--dense", type=int, help="A hidden Dense(relu) layer of this size."),
    click.option("--head", type=click.Choice(["sigmoid", "softmax", "linear"]),
                 help="Output layer (softmax on a binary task: Dense(2) + sparse CE)."),
    click.option("--vectors", type=click.Path(dir_okay=False),
                 help="Pretrained word vectors (word2vec text/binary or GloVe) for the embedding."),
    click.option("--freeze-vectors", is_flag=True, help="Keep the pretrained vectors fixed."),
    click.option("--ngrams", metavar="N[,N]",
                 help="N-gram feature streams beside the tokens: 2 (bigrams), 2,3 ..."),
    click.option("--ngram-words", metavar="N[,N]",
                 help="Ids each n-gram vocabulary keeps (one for all, or one per order). [100000]"),
    click.option("--ngram-dim", type=int,
                 help="The n-gram embedding size for a named architecture. [32]"),
    click.option("--level", type=click.Choice(["word", "char", "morpheme"]), help="Token level."),
    click.option("--num-words", type=int, help="Keep the N-1 most frequent tokens. [20000]"),
    click.option("--oov", help="The out-of-vocabulary token ('' for none). [<OOV>]"),
    click.option("--cleaner", type=click.Choice(["none", "html", "clean_str", "korean_only"]),
                 help="Text cleaning before tokenizing."),
    click.option("--max-token-chars", type=int, help="Cut tokens to N characters."),
    click.option("--pattern", metavar="REGEX", help="Word tokens are this regex's matches."),
    click.option("--squeeze-repeats", is_flag=True,
                 help="Runs of 3+ of one character become 2."),
    click.option("--subword-suffix", type=click.IntRange(0, 2),
                 help="Split Hangul words into stem + ##last 1 or 2 syllables."),
    click.option("--space-token", metavar="TOKEN",
                 help="At char level, whitespace runs become this token (e.g. ▁)."),
    click.option("--maxlen", type=int, help="Sequence length. [95th percentile, <= 500]"),
    click.option("--padding", type=click.Choice(["pre", "post"]), help="Pad side. [post]"),
    click.option("--truncating", type=click.Choice(["pre", "post"]), help="Cut side. [pre]"),
    click.option("--optimizer", type=click.Choice(["adam", "rmsprop", "sgd"]), help="[adam]"),
    click.option("--lr", type=float, help="Learning rate. [the optimizer's default]"),
    click.option("--clipnorm", type=float, help="Clip gradients to this norm."),
    click.option("--lr-schedule", type=click.Choice(["constant", "linear", "cosine"]),
                 help="Decay the rate to 5% of it over the planned steps. [constant]"),
    click.option("--ema", type=float, metavar="MOMENTUM",
                 help="Save a moving average of the weights (e.g. 0.99)."),
    click.option("--epochs", "-e", type=int, help="Epochs. [10]"),
    click.option("--batch-size", "-b", type=int, help="Batch size. [64]"),
    click.option("--validation", help="Fraction, corpus, test, none or auto. [auto]"),
    click.option("--patience", type=int,
                 help="Early stopping patience (restores the best weights)."),
    click.option("--seed", type=int, help="Random seed (runs are reproducible). [42]"),
    click.option("--train-limit", type=int, help="Train on the first N rows only."),
    click.option("--crops", type=int, help="Also train on up to N prefixes and sentences cut from "
                                           "each text (short-text verdicts). [0]"),
    click.option("--negations", type=int, help="Also train on up to N clauses of each text with a "
                                               "sentiment word, as written and negated. [0]"),
    click.option("--strategy", type=click.Choice(["auto", "one", "mirrored", "multiworker"]),
                 help="Distribution strategy (see below). [auto]"),
    click.option("--devices", type=int, help="Use N GPUs, or N logical CPU devices without GPUs."),
    click.option("--workers", metavar="HOST:PORT,...",
                 help="Every worker of a multi-machine run, in order (else TF_CONFIG)."),
    click.option("--worker-index", type=int,
                 help="This machine's position in --workers (0: chief)."),
    click.option("--scale-lr", is_flag=True,
                 help="Multiply the learning rate by the number of replicas."),
    click.option("--mixed-precision", is_flag=True,
                 help="float16 compute on GPUs that gain from it (output layer stays float32)."),
    click.option("--bucketing/--no-bucketing", default=None,
                 help="Length buckets with dynamic padding. [on where exact]"),
    click.option("--float16-weights", is_flag=True,
                 help="Store runtime.npz weights as float16 (half the size)."),
    click.option("--name", "-n", help="Registry name. [the preset, or DATASET-ARCH]"),
    click.option("--restart", is_flag=True, help="Discard an unfinished run of this name."),
    click.option("--no-publish", is_flag=True, help="Train and evaluate, publish nothing."),
    click.option("--tensorboard", "tensorboard_dir", metavar="DIR",
                 help="Write TensorBoard logs to DIR/NAME (tensorboard --logdir DIR)."),
    click.option("--json", "json_output", is_flag=True,
                 help="One JSON event per line on stdout (for programs)."),
    click.option("--plain", is_flag=True, help="Plain lines even on a terminal."),
]


def train_options(function: Any) -> Any:
    """Give a click command the options of ``rnn-tui train`` (a decorator)."""
    for option in reversed(_OPTIONS):
        function = option(function)
    return function


def parameters() -> list[click.Parameter]:
    """The click parameters of ``rnn-tui train``, in --help order (for completion, help)."""
    return list(_COMMAND.params)


def parse_words(words: list[str]) -> dict[str, Any]:
    """The options of ``rnn-tui train WORDS`` as click parses them (a UserError with
    click's message when it refuses them).

    >>> parse_words(["--epochs", "x"])
    Traceback (most recent call last):
    ...
    rnn_tui.errors.UserError: Invalid value for '--epochs' / '-e': 'x' is not a valid integer.
    """
    try:
        context = _COMMAND.make_context("train", list(words))
    except click.ClickException as error:
        raise UserError(error.format_message()) from None
    return context.params


_COMMAND = click.command("train", add_help_option=False)(train_options(lambda **options: None))
