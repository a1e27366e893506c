"""Benchmark: seconds per training epoch with length buckets (dynamic padding) and without.

One process, one model: the research recipe's IMDB model (tokens + bigrams, GRU(64), max,
average and last-state pooling; ``--arch`` to change it), built once per mode from the same
seed and spec, trained for one epoch on the same rows with the same batch size:

- buckets: ``rnn_tui.train.pipeline.train_dataset`` with ``lengths`` (chunks of 50 batches
  sorted by length, each batch padded to its own longest text), as ``rnn-tui train`` does;
- full padding: the same pipeline without ``lengths``: every batch padded to ``--maxlen``.

Both models are built with a variable-length input, so the only difference is the padding.
Each mode runs ``--rounds`` epochs (the first includes tracing; the table shows each).

    RNN_TUI_DATA=../shared/datasets .venv/bin/python bench/bucketing.py
    RNN_TUI_DATA=../shared/datasets .venv/bin/python bench/bucketing.py --train-limit 5000
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESEARCH_ARCH = "emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5"
EN_PATTERN = r"[a-z0-9]+(?:'[a-z0-9]+)*|[!?]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default=RESEARCH_ARCH)
    parser.add_argument("--maxlen", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=1, help="epochs per mode")
    args = parser.parse_args()

    import numpy as np

    from rnn_tui.backend import keras
    from rnn_tui.nets import build_model, normalize_spec
    from rnn_tui.train.config import TrainConfig
    from rnn_tui.train.engine import seed_everything
    from rnn_tui.train.pipeline import text_lengths, train_dataset
    from rnn_tui.train.prepare import prepare_data

    started = time.time()
    config = TrainConfig(dataset="imdb", num_words=30000, maxlen=args.maxlen, truncating="pre",
                         cleaner="html", pattern=EN_PATTERN, ngrams=[2], ngram_words=100000,
                         arch=args.arch, validation="none", train_limit=args.train_limit,
                         batch_size=args.batch_size)
    data = prepare_data(config)
    lengths = text_lengths(data.x_train)
    print(f"data: {len(data.x_train)} rows, maxlen {data.maxlen}, mean length "
          f"{lengths.mean():.0f}, {time.time() - started:.0f} s to prepare", flush=True)
    spec = normalize_spec(args.arch)
    model_input = dataclasses.replace(data.model_input, length=None)
    results = {}
    for mode in ("buckets", "full padding"):
        seed_everything(1)
        model = build_model(spec, model_input, task="binary", padding="post")
        model.compile(optimizer=keras().optimizers.Adam(1e-3, clipnorm=1.0),
                      loss="binary_crossentropy", metrics=["accuracy"])
        dataset, steps = train_dataset(
            data.x_train, data.y_train, batch_size=args.batch_size, seed=1, first_epoch=0,
            epochs=args.rounds, lengths=lengths if mode == "buckets" else None,
            stream_names=data.stream_names)
        seconds = []

        class Clock(keras().callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                seconds.append(time.perf_counter() - self.start)

        model.fit(dataset, epochs=args.rounds, steps_per_epoch=steps, callbacks=[Clock()],
                  verbose=0)
        results[mode] = seconds
        print(f"{mode}: {', '.join(f'{s:.1f}' for s in seconds)} s per epoch "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
    if args.batch_size:
        widths = []
        from rnn_tui.train.pipeline import bucket_batches

        for rows in bucket_batches(lengths, args.batch_size, seed=1, epoch=0):
            widths.append(max(int(lengths[rows].max()), 1))
        print(f"padded steps per batch: buckets {np.mean(widths):.0f} on average, full "
              f"{data.maxlen}")
    ratio = np.median(results["full padding"]) / np.median(results["buckets"])
    print(f"speed-up (full / buckets): {ratio:.2f}x")


if __name__ == "__main__":
    main()
