"""tf.data input pipelines that keep the model busy and make epochs reproducible.

Training batches: each epoch ``e`` visits the rows in the order
``stateless_shuffle(range(n), seed=(seed, e))``, i.e. a pure function of the seed and the
epoch number. So a run resumed at epoch k sees exactly the batches an uninterrupted run would
(a shuffle buffer's state would be lost with the process). The arrays live in memory; a batch
is a ``tf.gather`` of its row ids, done in parallel and prefetched while the model trains.

Evaluation batches are the rows in order, batched, cached after the first pass and
prefetched.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def steps_for(rows: int, batch_size: int) -> int:
    """Batches per epoch (the last one may be smaller)."""
    return max(1, math.ceil(rows / batch_size))


def train_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    first_epoch: int,
    epochs: int,
) -> tuple[Any, int]:
    """The batches of epochs ``first_epoch .. epochs-1`` (0-based) as one dataset.

    Returns ``(dataset, steps_per_epoch)``; pass both to ``model.fit`` (with
    ``steps_per_epoch``, Keras keeps one iterator across epochs, so epoch boundaries line up).
    """
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    rows = len(x)
    steps = steps_for(rows, batch_size)
    features = tf.constant(x)
    labels = tf.constant(y)
    seed_tensor = tf.constant(seed, dtype=tf.int64)

    def epoch_batches(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(rows, dtype=tf.int64), seed=tf.stack([seed_tensor, epoch]))

        def batch_rows(step):
            start = step * batch_size
            return order[start: tf.minimum(start + batch_size, rows)]

        return tf.data.Dataset.range(steps).map(batch_rows)

    dataset = tf.data.Dataset.range(first_epoch, max(first_epoch, epochs)).flat_map(epoch_batches)
    dataset = dataset.map(lambda rows_: (tf.gather(features, rows_), tf.gather(labels, rows_)),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE), steps


def eval_dataset(x: np.ndarray, y: np.ndarray | None, *, batch_size: int) -> Any:
    """Rows in order, batched, cached and prefetched (validation, test, prediction)."""
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    items = (x, y) if y is not None else x
    dataset = tf.data.Dataset.from_tensor_slices(items).batch(batch_size)
    return dataset.cache().prefetch(tf.data.AUTOTUNE)
