"""Benchmark: training throughput through the rnn-tui engine vs a bare ``model.fit``.

Same model (built from the same spec), same data, same batch size, same process and
determinism settings; the two are run alternately (engine, bare, engine, bare ...) so that
machine load drifts hit both. Throughput is training rows per second over the steady-state
epochs (the first epoch, which traces the graphs, is left out), measured for both the same
way: wall time between the starts of consecutive epochs, so the engine's end-of-epoch work
(events, the run state, the backup of weights and optimizer) is counted. Validation is off
in both, so only the training loop is compared.

    .venv/bin/python bench/train_throughput.py
    .venv/bin/python bench/train_throughput.py --rows 8192 --arch "emb:64 gru:64" --rounds 3
    RNN_TUI_DATA=../shared/datasets .venv/bin/python bench/train_throughput.py --dataset imdb

The target is a ratio (engine / bare) of at least 0.95.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = [f"w{i}" for i in range(4000)]


def synthetic_corpus(rows: int, length: int, seed: int):
    """Random texts whose label is whether the word w1 appears more often than w2."""
    import numpy as np

    from rnn_tui.data.corpus import Corpus, Split

    rng = np.random.default_rng(seed)

    def split(n: int) -> Split:
        ids = rng.zipf(1.3, size=(n, length)) % len(WORDS)
        texts = [" ".join(WORDS[i] for i in row) for row in ids]
        labels = ((ids == 1).sum(axis=1) > (ids == 2).sum(axis=1)).astype(np.int64)
        return Split(labels, texts=texts)

    return Corpus("synthetic", "binary", ["negative", "positive"], "en", split(rows),
                  split(max(64, rows // 8)))


class EpochStarts:
    """Wall-clock times at which epochs start (for the bare fit)."""

    def __init__(self, keras):
        outer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                outer.times.append(time.perf_counter())

        self.times: list[float] = []
        self.callback = Callback()


def steady_rate(starts: list[float], rows: int) -> float:
    """Rows per second from the start of epoch 2 to the start of the last epoch: every
    interval holds one whole epoch with all its end-of-epoch work, and no graph tracing."""
    intervals = [b - a for a, b in zip(starts[1:], starts[2:])]
    return rows / statistics.median(intervals)


def engine_round(config, corpus, index: int) -> float:
    from rnn_tui.train import train
    from rnn_tui.train.events import EpochStarted

    starts: list[float] = []

    def on_event(event):
        if isinstance(event, EpochStarted):
            starts.append(time.perf_counter())

    result = train(config.replace(name=f"bench-{index}"), on_event, corpus=corpus,
                   publish=False)
    return steady_rate(starts, len(result.data.x_train))


def bare_round(config, data, spec) -> float:
    from rnn_tui.backend import keras
    from rnn_tui.nets import build_model
    from rnn_tui.train.engine import compile_settings, make_optimizer, seed_everything

    keras_module = keras()
    seed_everything(config.seed)
    model = build_model(spec, data.model_input, task=data.task, num_classes=data.num_classes,
                        padding=config.padding)
    loss, metrics = compile_settings(config, spec, data)
    model.compile(optimizer=make_optimizer(config), loss=loss, metrics=metrics)
    timer = EpochStarts(keras_module)
    model.fit(data.x_train, data.y_train, batch_size=config.batch_size, epochs=config.epochs,
              shuffle=True, callbacks=[timer.callback], verbose=0)
    return steady_rate(timer.times, len(data.x_train))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="a real corpus (default: synthetic texts)")
    parser.add_argument("--rows", type=int, default=4096, help="synthetic training rows")
    parser.add_argument("--maxlen", type=int, default=100)
    parser.add_argument("--arch", default="emb:64 lstm:64")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5, help="per round (the first and the "
                        "last are left out of the rate)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, alternating")
    parser.add_argument("--train-limit", type=int, help="rows of a real corpus to train on")
    args = parser.parse_args()
    if args.epochs < 3:
        parser.error("--epochs must be at least 3 (the first is warm-up, the last unbounded)")
    os.environ.setdefault("RNN_TUI_HOME", tempfile.mkdtemp(prefix="rnn-tui-bench-"))

    from rnn_tui.backend import tensorflow
    from rnn_tui.train import TrainConfig
    from rnn_tui.train.distribute import device_name
    from rnn_tui.train.engine import resolve_spec
    from rnn_tui.train.prepare import prepare_data

    corpus = None if args.dataset else synthetic_corpus(args.rows, args.maxlen, seed=0)
    config = TrainConfig(dataset=args.dataset or "synthetic", arch=args.arch,
                         epochs=args.epochs, batch_size=args.batch_size, maxlen=args.maxlen,
                         validation="none", train_limit=args.train_limit, num_words=5000)
    data = prepare_data(config, corpus=corpus)
    spec = resolve_spec(config, data.model_input)
    tf = tensorflow()
    print(f"device: {device_name()}, TensorFlow {tf.__version__}, threads: "
          f"{os.cpu_count()} CPUs")
    print(f"model: {args.arch}; {len(data.x_train):,} rows x maxlen {data.maxlen}; "
          f"batch {args.batch_size}; {args.epochs} epochs per round, {args.rounds} rounds")
    engine_rates, bare_rates = [], []
    for index in range(args.rounds):
        rate = engine_round(config, corpus or data.corpus, index)
        engine_rates.append(rate)
        print(f"  round {index + 1}: engine {rate:9.1f} rows/s", flush=True)
        rate = bare_round(config, data, spec)
        bare_rates.append(rate)
        print(f"  round {index + 1}: bare   {rate:9.1f} rows/s", flush=True)
    engine = statistics.median(engine_rates)
    bare = statistics.median(bare_rates)
    ratio = engine / bare
    print(f"median: engine {engine:.1f} rows/s, bare model.fit {bare:.1f} rows/s, "
          f"ratio {ratio:.3f} ({'within' if ratio >= 0.95 else 'OUTSIDE'} the 5% target)")


if __name__ == "__main__":
    main()
