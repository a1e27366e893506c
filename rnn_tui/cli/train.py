"""``rnn-tui train``: train a model on a corpus and publish it to the registry.

Thin: the flags become a ``TrainConfig`` (a preset's, with the flags given on top), the
engine runs with a renderer as its event consumer. TensorFlow is imported by the engine only
once training starts, so ``--help``, ``--list-presets`` and ``--list-archs`` are instant.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

import click

# (build_config and build_placement are also this module's for older callers and the tests)
from rnn_tui.train.options import build_config, build_placement, train_options

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


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
def sigterm_cancels() -> Iterator[None]:
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
    --arch "bag:tfidf dense:16 dense:16"   (texts_to_matrix and a Dense model)
  items: emb:DIM ngram-emb:DIM onehot simplernn:U lstm:U gru:U birnn:U bilstm:U bigru:U
  conv1d:F:K maxpool:P dropout:R spatial-dropout:R pool:MODES flatten dense:U[:ACT]
  bag:binary|count|tfidf|freq (first, then dense items)
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
@train_options
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
        with sigterm_cancels():
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
