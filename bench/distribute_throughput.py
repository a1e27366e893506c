"""Benchmark: training throughput on 1 device vs 2 (tf.distribute), and cuDNN vs generic.

CPU mode (the default): the same model, data and *global* batch through the rnn-tui engine
with ``--strategy one`` (one device, batch G) and with MirroredStrategy over the CPU split
into 2 logical devices (G/2 per replica). Devices must be chosen before TensorFlow starts,
so every measurement runs in a fresh child process; the two are run alternately
(one, two, one, two ...) so machine load drifts hit both. Throughput is training rows per
second of the steady-state epochs (the first, which traces the graphs, is left out), from
the engine's own EpochEnded events; validation is off.

    .venv/bin/python bench/distribute_throughput.py
    .venv/bin/python bench/distribute_throughput.py --rows 8192 --rounds 5 --devices 4

GPU mode (``--gpu``, needs a GPU): one device, the cuDNN-eligible LSTM against the same
LSTM forced onto the generic kernel (``recurrent_dropout`` > 0, as a user's setting would),
plus the cuDNN LSTM with ``--mixed-precision``; and, with several GPUs, MirroredStrategy over
all of them against one.

    .venv/bin/python bench/distribute_throughput.py --gpu --rows 32768 --maxlen 200

Logical CPU devices share the same cores and thread pools, so on a small machine expect
little or no gain from 2: the CPU mode measures the cost of the distribution machinery
(splitting batches, all-reducing gradients) as much as any speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def child(options: argparse.Namespace) -> None:
    """One measurement in this (fresh) process; prints one JSON line."""
    from train_throughput import synthetic_corpus

    from rnn_tui.train import TrainConfig, train
    from rnn_tui.train.distribute import Placement
    from rnn_tui.train.events import EpochEnded, RunStarted

    os.environ["RNN_TUI_HOME"] = tempfile.mkdtemp(prefix="rnn-tui-bench-")
    corpus = synthetic_corpus(options.rows, options.maxlen, seed=0)
    config = TrainConfig(dataset="synthetic", arch=options.arch, epochs=options.epochs,
                         batch_size=options.batch, validation="none", maxlen=options.maxlen,
                         num_words=5000, seed=1, name="bench",
                         mixed_precision=options.mixed_precision)
    rates: list[float] = []
    started: dict = {}

    def on_event(event):
        if isinstance(event, RunStarted):
            started.update(device=event.device, distribution=event.distribution,
                           steps=event.steps_per_epoch)
        elif isinstance(event, EpochEnded) and event.epoch > 1:
            rates.append(event.samples_per_second)

    train(config, on_event, corpus=corpus, publish=False,
          placement=Placement(strategy=options.strategy, devices=options.devices))
    print(json.dumps({"rows_per_s": statistics.median(rates), "epochs": rates, **started}))


def measure(label: str, args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{label} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["label"] = label
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096, help="training rows [4096]")
    parser.add_argument("--maxlen", type=int, default=100, help="sequence length [100]")
    parser.add_argument("--batch", type=int, default=64,
                        help="global batch (split over the replicas) [64]")
    parser.add_argument("--arch", default="emb:64 lstm:64", help="[emb:64 lstm:64]")
    parser.add_argument("--epochs", type=int, default=4, help="per measurement [4]")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds [3]")
    parser.add_argument("--devices", type=int, default=2, help="logical CPUs to compare [2]")
    parser.add_argument("--gpu", action="store_true", help="GPU mode (see the docstring)")
    # child process options
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", default="one", help=argparse.SUPPRESS)
    parser.add_argument("--mixed-precision", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        options.devices = options.devices if options.strategy == "mirrored" else None
        child(options)
        return

    common = ["--rows", str(options.rows), "--maxlen", str(options.maxlen),
              "--epochs", str(options.epochs)]
    if options.gpu:
        configs = gpu_configs(options, common)
    else:
        if options.batch % options.devices:
            raise SystemExit("--batch must divide by --devices (same global batch)")
        per_replica = options.batch // options.devices
        configs = [
            ("1 device", [*common, "--arch", options.arch, "--batch", str(options.batch),
                          "--strategy", "one"]),
            (f"{options.devices} logical devices",
             [*common, "--arch", options.arch, "--batch", str(per_replica),
              "--strategy", "mirrored", "--devices", str(options.devices)]),
        ]
    results: dict[str, list[dict]] = {label: [] for label, _ in configs}
    for round_ in range(1, options.rounds + 1):
        for label, args in configs:
            result = measure(label, args)
            results[label].append(result)
            print(f"round {round_}  {label:<28} {result['rows_per_s']:9.1f} rows/s   "
                  f"({result['device']}; epochs {', '.join(f'{r:.0f}' for r in result['epochs'])})",
                  flush=True)
    print()
    print("| configuration | " + " | ".join(f"round {i}" for i in range(1, options.rounds + 1))
          + " | median rows/s |")
    print("|---|" + "---|" * (options.rounds + 1))
    medians = {}
    for label, runs in results.items():
        medians[label] = statistics.median(r["rows_per_s"] for r in runs)
        print(f"| {label} | " + " | ".join(f"{r['rows_per_s']:.1f}" for r in runs)
              + f" | {medians[label]:.1f} |")
    baseline = next(iter(medians))
    for label, value in medians.items():
        if label != baseline:
            print(f"\nratio {label} / {baseline}: {value / medians[baseline]:.3f}")


def gpu_configs(options: argparse.Namespace, common: list[str]) -> list[tuple[str, list[str]]]:
    from rnn_tui.backend import tensorflow

    gpus = tensorflow().config.list_physical_devices("GPU")
    if not gpus:
        raise SystemExit("--gpu: no GPU is visible to TensorFlow")
    lstm = options.arch if "lstm" in options.arch else "emb:64 lstm:128"
    generic = " ".join(part + ",rd=0.01" if part.startswith("lstm:") else part
                       for part in lstm.split())
    batch = str(options.batch)
    configs = [
        ("cuDNN LSTM", [*common, "--arch", lstm, "--batch", batch, "--strategy", "one"]),
        # recurrent_dropout > 0 is the usual reason a user's LSTM leaves cuDNN
        ("generic LSTM (recurrent_dropout)",
         [*common, "--arch", generic, "--batch", batch, "--strategy", "one"]),
        ("cuDNN LSTM, mixed precision", [*common, "--arch", lstm, "--batch", batch,
                                         "--strategy", "one", "--mixed-precision"]),
    ]
    if len(gpus) > 1:
        per_replica = options.batch // len(gpus)
        configs.append((f"cuDNN LSTM, {len(gpus)} GPUs mirrored",
                        [*common, "--arch", lstm, "--batch", str(per_replica),
                         "--strategy", "mirrored", "--devices", str(len(gpus))]))
    return configs


if __name__ == "__main__":
    main()
