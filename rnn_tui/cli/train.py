"""``rnn-tui train``: train a model on a corpus and publish it to the registry.

Thin: the flags become a ``TrainConfig`` (a preset's, with the flags given on top), the
engine runs with a renderer as its event consumer. TensorFlow is imported by the engine only
once training starts, so ``--help``, ``--list-presets`` and ``--list-archs`` are instant.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from rnn_tui.errors import UserError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

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


def _parse_option(text: str) -> tuple[str, Any]:
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
        dataset_options.update(_parse_option(text) for text in options["dataset_option"])
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


def _list_presets() -> None:
    from rich.console import Console
    from rich.table import Table

    from rnn_tui.train.presets import PRESETS

    table = Table("preset", "dataset", "recipe", box=None, pad_edge=False)
    for name, preset in PRESETS.items():
        table.add_row(name, str(preset.settings.get("dataset", "")), preset.description)
    Console().print(table)


def _list_archs() -> None:
    from rnn_tui.nets import COMPACT_HELP, NAMED_ARCHS, to_compact
    from rnn_tui.nets.zoo import named_spec

    click.echo("Named architectures (--arch NAME; knobs: --units --layers --embedding-dim "
               "--dropout --pool --ngram-dim ...):")
    for name, arch in NAMED_ARCHS.items():
        click.echo(f"  {name:<18} {arch.description:<50} {to_compact(named_spec(name))}")
    click.echo("")
    click.echo(COMPACT_HELP)


# Set by the TUI for its training subprocesses: their SIGINT is the TUI's cancel button.
SIGINT_CANCELS_ENV = "RNN_TUI_SIGINT_CANCELS"


@contextlib.contextmanager
def _sigterm_cancels() -> Iterator[None]:
    """SIGTERM (e.g. the TUI stopping its subprocess) cancels like Ctrl-C.

    Under ``RNN_TUI_SIGINT_CANCELS=1`` SIGINT cancels too even when this process inherited
    "ignore SIGINT" (a non-interactive shell's background job passes that on, and Python
    then never raises KeyboardInterrupt): the TUI's cancel must not depend on how the TUI
    itself was started.
    """
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    previous_int = None
    if os.environ.get(SIGINT_CANCELS_ENV) == "1":
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


EPILOG = """\b
Architectures (--arch):
  a name: simplernn lstm gru bilstm bigru stacked-simplernn stacked-lstm stacked-gru
          flatten onehot-simplernn conv-lstm  (tune with --units 64,32 --layers 2
          --embedding-dim 128 --dropout 0.2 --pool max+average+last --dense 64
          --bidirectional --ngram-dim 32)
  or a compact spec, one item per layer (quote it):
    --arch "emb:32 lstm:64 lstm:32"
    --arch "emb:100 dropout:0.5 conv1d:64:5 maxpool:4 lstm:100"
    --arch "emb:128,mask=false bigru:64,dropout=0.2 pool:max+average dense:64 dropout:0.3"
    --arch "emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5"
    --arch "onehot simplernn:8"          --arch "gru:30 gru:30"   (numeric sequence tasks)
    --arch "emb:300,vectors=glove.txt,trainable=false lstm:64"
  items: emb:DIM ngram-emb:DIM onehot simplernn:U lstm:U gru:U birnn:U bilstm:U bigru:U
  conv1d:F:K maxpool:P dropout:R spatial-dropout:R pool:MODES flatten dense:U[:ACT]
  head:sigmoid|softmax|linear[:UNITS]; pool modes max, average, last joined by +
  (last: the final state, right after a unidirectional recurrent layer); options as
  ,KEY=VALUE (dropout, rd, mask, vectors, trainable, format, padding, activation, strides,
  input_dim, separate, n).
  Or --arch-file spec.json: {"layers": [{"type": "embedding", "dim": 32}, ...],
  "head": {...}}. rnn-tui train --list-archs shows the details.

\b
N-gram features: --ngrams 2 adds, at every position, the id of the bigram ending
there ("<s> the", "the film", ...) from its own vocabulary (--ngram-words ids,
100000 by default; --ngrams 2,3 for bigrams and trigrams). The architecture reads
them with ngram-emb:DIM after emb (a named architecture gets ngram-emb:32, or
--ngram-dim); the embeddings are concatenated at each position. Needs an OOV token.

\b
Tokens: --pattern REGEX makes the regex's matches the tokens (English as in the
research: --cleaner html --pattern "[a-z0-9]+(?:'[a-z0-9]+)*|[!?]");
--squeeze-repeats turns 3+ repeats of a character into 2 (ㅋㅋㅋㅋ -> ㅋㅋ);
--subword-suffix 1|2 splits Hangul words into stem + ##suffix syllables;
--level char --space-token ▁ gives syllables with a word-boundary token.

\b
Schedules and weights: --lr-schedule linear|cosine decays the rate to 5% of it
over the planned steps (no warm-up); --ema 0.99 keeps a moving average of the
weights and saves it (not with --patience); --float16-weights stores runtime.npz
in float16 and records the runtime's test accuracy beside Keras' in the card.
Length buckets (default for text padded post with a masking model, --no-bucketing
turns them off): batches of similar lengths padded to their own longest text,
which gives the same results as padding to --maxlen, faster.

\b
Validation (--validation): a fraction (0.2: the training rows are shuffled with
the seed and the last 20% held out, the same rows every time), corpus (the
corpus' own split), test (the test split, as two tutorials do), none, or auto.

\b
Resuming: a run keeps its state in $RNN_TUI_HOME/runs/NAME. Run the same command
again after Ctrl-C or a crash to continue from the last finished epoch; a
different configuration under the same --name is refused unless --restart.

\b
Several devices (TensorFlow's tf.distribute): --strategy auto (default) uses
every visible GPU (MirroredStrategy), or --devices N of them; without GPUs,
--devices N splits the CPU into N logical devices. --batch-size is per replica:
each step averages over batch-size x replicas rows; the learning rate stays as
given unless --scale-lr multiplies it by the replicas. Several machines: start
the same command on each with --workers host1:port,host2:port and its own
--worker-index (or set TF_CONFIG); worker 0 shows progress and publishes, and
the run folder ($RNN_TUI_HOME/runs) must be shared for resuming.
--mixed-precision: float16 compute on GPUs with compute capability >= 7.0.

\b
Examples:
  rnn-tui train --dataset imdb --arch lstm --epochs 2
  rnn-tui train --dataset imdb --arch gru --epochs 3 --tensorboard ~/tb
  rnn-tui train --preset tutorial-nsmc-lstm --epochs 1
  rnn-tui train --dataset reuters --arch bigru --units 64 --maxlen 200 --name reuters-bigru
  rnn-tui train --dataset multiplication --arch "lstm:30 lstm:30" --epochs 20
  rnn-tui train --dataset nsmc --level morpheme --vectors ko.vec --freeze-vectors
  rnn-tui train --preset tutorial-imdb-lstm --devices 2 --scale-lr
  rnn-tui train --dataset imdb --workers 10.0.0.1:12345,10.0.0.2:12345 --worker-index 0
  rnn-tui train --dataset imdb --cleaner html --pattern "[a-z0-9]+(?:'[a-z0-9]+)*|[!?]"
      --num-words 30000 --maxlen 600 --ngrams 2 --ngram-words 100000 --arch
      "emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5"
      --lr 0.001 --clipnorm 1 --lr-schedule linear --epochs 3
"""


@click.command("train", context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("--dataset", "-d", help="Corpus name (rnn-tui data list) or a CSV/TSV/JSONL path.")
@click.option("--dataset-option", multiple=True, metavar="KEY=VALUE",
              help="Corpus loader option, e.g. train_size=2560 (repeatable).")
@click.option("--preset", "-p", help="Start from a named recipe (see --list-presets).")
@click.option("--list-presets", is_flag=True, help="List the presets and exit.")
@click.option("--list-archs", is_flag=True, help="List the architectures and the compact syntax.")
@click.option("--arch", "-a", help="Named architecture or a compact spec (see below). [lstm]")
@click.option("--arch-file", type=click.Path(dir_okay=False), help="Architecture spec file.")
@click.option("--units", help="Units per recurrent layer: 64, or one per layer: 64,32.")
@click.option("--layers", type=int, help="Number of recurrent layers.")
@click.option("--embedding-dim", type=int, help="Embedding size.")
@click.option("--dropout", type=float, help="Input dropout of the recurrent layers.")
@click.option("--recurrent-dropout", type=float,
              help="Recurrent dropout (forces the slow kernel on a GPU).")
@click.option("--spatial-dropout", type=float, help="SpatialDropout1D after the embedding.")
@click.option("--bidirectional/--no-bidirectional", default=None,
              help="Wrap the recurrent layers in Bidirectional.")
@click.option("--pool", type=click.Choice(["max", "average", "max+average", "max+last",
                                          "average+last", "max+average+last"]),
              help="Pool over time instead of the last state (+last: with it).")
@click.option("--dense", type=int, help="A hidden Dense(relu) layer of this size.")
@click.option("--head", type=click.Choice(["sigmoid", "softmax", "linear"]),
              help="Output layer (softmax on a binary task: Dense(2) + sparse CE).")
@click.option("--vectors", type=click.Path(dir_okay=False),
              help="Pretrained word vectors (word2vec text/binary or GloVe) for the embedding.")
@click.option("--freeze-vectors", is_flag=True, help="Keep the pretrained vectors fixed.")
@click.option("--ngrams", metavar="N[,N]",
              help="N-gram feature streams beside the tokens: 2 (bigrams), 2,3 ...")
@click.option("--ngram-words", metavar="N[,N]",
              help="Ids each n-gram vocabulary keeps (one for all, or one per order). [100000]")
@click.option("--ngram-dim", type=int,
              help="The n-gram embedding size for a named architecture. [32]")
@click.option("--level", type=click.Choice(["word", "char", "morpheme"]), help="Token level.")
@click.option("--num-words", type=int, help="Keep the N-1 most frequent tokens. [20000]")
@click.option("--oov", help="The out-of-vocabulary token ('' for none). [<OOV>]")
@click.option("--cleaner", type=click.Choice(["none", "html", "clean_str", "korean_only"]),
              help="Text cleaning before tokenizing.")
@click.option("--max-token-chars", type=int, help="Cut tokens to N characters.")
@click.option("--pattern", metavar="REGEX", help="Word tokens are this regex's matches.")
@click.option("--squeeze-repeats", is_flag=True,
              help="Runs of 3+ of one character become 2.")
@click.option("--subword-suffix", type=click.IntRange(0, 2),
              help="Split Hangul words into stem + ##last 1 or 2 syllables.")
@click.option("--space-token", metavar="TOKEN",
              help="At char level, whitespace runs become this token (e.g. ▁).")
@click.option("--maxlen", type=int, help="Sequence length. [95th percentile, <= 500]")
@click.option("--padding", type=click.Choice(["pre", "post"]), help="Pad side. [post]")
@click.option("--truncating", type=click.Choice(["pre", "post"]), help="Cut side. [pre]")
@click.option("--optimizer", type=click.Choice(["adam", "rmsprop", "sgd"]), help="[adam]")
@click.option("--lr", type=float, help="Learning rate. [the optimizer's default]")
@click.option("--clipnorm", type=float, help="Clip gradients to this norm.")
@click.option("--lr-schedule", type=click.Choice(["constant", "linear", "cosine"]),
              help="Decay the rate to 5% of it over the planned steps. [constant]")
@click.option("--ema", type=float, metavar="MOMENTUM",
              help="Save a moving average of the weights (e.g. 0.99).")
@click.option("--epochs", "-e", type=int, help="Epochs. [10]")
@click.option("--batch-size", "-b", type=int, help="Batch size. [64]")
@click.option("--validation", help="Fraction, corpus, test, none or auto. [auto]")
@click.option("--patience", type=int, help="Early stopping patience (restores the best weights).")
@click.option("--seed", type=int, help="Random seed (runs are reproducible). [42]")
@click.option("--train-limit", type=int, help="Train on the first N rows only.")
@click.option("--crops", type=int, help="Also train on up to N prefixes and sentences cut from "
                                        "each text (short-text verdicts). [0]")
@click.option("--negations", type=int, help="Also train on up to N clauses of each text with a "
                                            "sentiment word, as written and negated. [0]")
@click.option("--strategy", type=click.Choice(["auto", "one", "mirrored", "multiworker"]),
              help="Distribution strategy (see below). [auto]")
@click.option("--devices", type=int, help="Use N GPUs, or N logical CPU devices without GPUs.")
@click.option("--workers", metavar="HOST:PORT,...",
              help="Every worker of a multi-machine run, in order (else TF_CONFIG).")
@click.option("--worker-index", type=int, help="This machine's position in --workers (0: chief).")
@click.option("--scale-lr", is_flag=True,
              help="Multiply the learning rate by the number of replicas.")
@click.option("--mixed-precision", is_flag=True,
              help="float16 compute on GPUs that gain from it (output layer stays float32).")
@click.option("--bucketing/--no-bucketing", default=None,
              help="Length buckets with dynamic padding. [on where exact]")
@click.option("--float16-weights", is_flag=True,
              help="Store runtime.npz weights as float16 (half the size).")
@click.option("--name", "-n", help="Registry name. [the preset, or DATASET-ARCH]")
@click.option("--restart", is_flag=True, help="Discard an unfinished run of this name.")
@click.option("--no-publish", is_flag=True, help="Train and evaluate, publish nothing.")
@click.option("--tensorboard", "tensorboard_dir", metavar="DIR",
              help="Write TensorBoard logs to DIR/NAME (tensorboard --logdir DIR).")
@click.option("--json", "json_output", is_flag=True,
              help="One JSON event per line on stdout (for programs).")
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
def train(**options: Any) -> None:
    """Train a model and publish it to the registry.

    Builds the vocabulary on the training split, trains with a live view (or plain lines,
    or JSON events), evaluates on the test split and publishes model, vocabulary, runtime
    weights and card as a new version; @best moves to it when its test score is the best.
    """
    if options["list_presets"]:
        _list_presets()
        return
    if options["list_archs"]:
        _list_archs()
        return
    config = build_config(options)
    placement = build_placement(options)
    mode = "json" if options["json_output"] else ("plain" if options["plain"] else "auto")

    from rnn_tui.paths import run_logs_root
    from rnn_tui.train.engine import RunCancelledError, RunExtras, train as run_training
    from rnn_tui.train.render import renderer_for
    from rnn_tui.train.run_log import RunLogWriter, prune

    extras = RunExtras()
    if options.get("tensorboard_dir"):
        from rnn_tui.train.tensorboard import check_log_dir, tensorboard_callbacks

        extras.callbacks = tensorboard_callbacks(check_log_dir(options["tensorboard_dir"]),
                                                 config.default_name)
    renderer = renderer_for(mode)
    # Every event also goes to the run's log, so `rnn-tui runs` (and the app) can follow
    # this run from another terminal, or after this one is gone.
    log = RunLogWriter(run_logs_root(), config.name or config.dataset or "run")

    def on_event(event: Any) -> None:
        log(event)
        renderer(event)

    try:
        with _sigterm_cancels():
            run_training(config, on_event, restart=options["restart"],
                         publish=not options["no_publish"], placement=placement,
                         extras=extras)
    except RunCancelledError as error:
        if mode != "json":
            click.echo(f"rnn-tui: {error}", err=True)
        sys.exit(130)
    finally:
        log.close()
        prune(run_logs_root())
