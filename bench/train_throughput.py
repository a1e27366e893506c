"""Benchmark: training throughput through the rnn-tui engine vs a bare ``model.fit``.

Same model (built from the same spec), same data, same batch size, same process and
determinism settings. Both sides first run one warm-up round that is not counted (the
process' first TensorFlow ops, thread pools, allocator); then timed rounds, each a pair run
back to back with the order alternating (engine then bare, bare then engine, ...) so that a
drift in the machine's load falls on both sides alike. Throughput is training rows per
second over the steady-state epochs (the first epoch, which traces the graphs, is left out),
measured for both the same way: the median wall time between the starts of consecutive
epochs, so the engine's end-of-epoch work (events, the run state, the backup of weights and
optimizer) is counted. Validation is off in both, so only the training loop is compared.

The figure is the ratio engine / bare, from the paired rounds (each round's two runs were
neighbours in time): the geometric mean of the rounds' ratios with its 95% confidence
interval (Student's t on the log ratios). Rounds go on until that interval is narrower than
``--resolve`` (default 5%: +-2.5%) or ``--max-rounds`` / ``--budget-s`` is spent; the script
says which.

    .venv/bin/python bench/train_throughput.py
    .venv/bin/python bench/train_throughput.py --rows 8192 --arch "emb:64 gru:64" --rounds 6
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


def engine_round(config, corpus, label: str) -> float:
    from rnn_tui.train import train
    from rnn_tui.train.events import EpochStarted

    starts: list[float] = []

    def on_event(event):
        if isinstance(event, EpochStarted):
            starts.append(time.perf_counter())

    result = train(config.replace(name=f"bench-{label}"), on_event, corpus=corpus,
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


def ratio_interval(engine: list[float], bare: list[float]) -> tuple[float, float, float]:
    """(geometric mean of the paired ratios, low, high of its 95% confidence interval)."""
    import math

    from scipy import stats

    logs = [math.log(e / b) for e, b in zip(engine, bare)]
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return math.exp(mean), 0.0, math.inf
    half = stats.t.ppf(0.975, len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="a real corpus (default: synthetic texts)")
    parser.add_argument("--rows", type=int, default=8192,
                        help="synthetic training rows (8,192: epochs of ~4 s on 2 cores, long "
                             "enough that a round's noise does not swamp a 5 %% cost)")
    parser.add_argument("--maxlen", type=int, default=100)
    parser.add_argument("--arch", default="emb:64 lstm:64")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=4, help="per round (the first is left "
                        "out of the rate; the rest give the epoch intervals)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="timed rounds of each side at least, alternating")
    parser.add_argument("--max-rounds", type=int, default=40)
    parser.add_argument("--budget-s", type=float, default=560,
                        help="no new round starts after this many seconds of timed rounds")
    parser.add_argument("--resolve", type=float, default=0.05,
                        help="stop once the ratio's 95%% interval is narrower than this")
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
    load = os.getloadavg()
    print(f"device: {device_name()}, TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"model: {args.arch}; {len(data.x_train):,} rows x maxlen {data.maxlen}; "
          f"batch {args.batch_size}; {args.epochs} epochs per round")
    sides = {"engine": lambda label: engine_round(config, corpus or data.corpus, label),
             "bare": lambda label: bare_round(config, data, spec)}
    for name, run in sides.items():  # warm-ups, not counted
        print(f"  warm-up: {name} {run('warm-up'):9.1f} rows/s", flush=True)
    rates: dict[str, list[float]] = {"engine": [], "bare": []}
    started = time.perf_counter()
    stop = ""
    for index in range(args.max_rounds):
        order = ["engine", "bare"] if index % 2 == 0 else ["bare", "engine"]
        for name in order:
            rates[name].append(sides[name](str(index + 1)))
        ratio = rates["engine"][-1] / rates["bare"][-1]
        print(f"  round {index + 1} ({order[0]} first): engine {rates['engine'][-1]:9.1f}, "
              f"bare {rates['bare'][-1]:9.1f} rows/s, ratio {ratio:.3f}", flush=True)
        if index + 1 >= args.rounds:
            _, low, high = ratio_interval(rates["engine"], rates["bare"])
            if high / low - 1 <= args.resolve:
                stop = f"the interval is within {args.resolve:.0%}"
                break
            if time.perf_counter() - started > args.budget_s:
                stop = f"the {args.budget_s:.0f} s budget is spent"
                break
    else:
        stop = f"{args.max_rounds} rounds run"
    rounds = len(rates["engine"])
    ratio, low, high = ratio_interval(rates["engine"], rates["bare"])
    for name in ("engine", "bare"):
        values = rates[name]
        print(f"{name}: median {statistics.median(values):.1f} rows/s, range "
              f"{min(values):.1f}-{max(values):.1f} over {rounds} rounds")
    verdict = ("met" if low >= 0.95 else "NOT met" if high < 0.95
               else "not resolved (the interval straddles 0.95)")
    print(f"ratio engine / bare: {ratio:.3f}, 95% interval {low:.3f}-{high:.3f} "
          f"({rounds} paired rounds; stopped: {stop}); target >= 0.95: {verdict}")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
