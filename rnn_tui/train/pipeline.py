"""tf.data input pipelines that keep the model busy and make epochs reproducible.

Training batches: each epoch ``e`` visits the rows in the order
``stateless_shuffle(range(n), seed=(seed, e))``, i.e. a pure function of the seed and the
epoch number. So a run resumed at epoch k sees exactly the batches an uninterrupted run would
(a shuffle buffer's state would be lost with the process). The arrays live in memory; a batch
is a ``tf.gather`` of its row ids, done in parallel and prefetched while the model trains.

Evaluation batches are the rows in order, batched, cached after the first pass and
prefetched.

Under a ``tf.distribute`` strategy (``distributed_train_dataset``) the same global order is
cut into full global batches and each input pipeline (one per worker) takes its replicas'
slices of every global batch itself: replica ``r`` of step ``s`` gets rows
``order[s*G + r*b : s*G + (r+1)*b]`` (``b`` per replica, ``G = b x replicas``). Every worker
holds the same arrays and computes the same order, so no auto-sharding is needed (it is
turned off) and the batches are those of a single process with batch ``G``.
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


def distributed_steps(rows: int, global_batch: int) -> int:
    """Full global batches per epoch (the remainder is left for that epoch)."""
    from rnn_tui.errors import UserError

    if rows < global_batch:
        raise UserError(f"{rows} training rows are fewer than one global batch "
                        f"({global_batch}); lower --batch-size or use fewer devices")
    return rows // global_batch


def distributed_train_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    strategy: Any,
    per_replica_batch: int,
    seed: int,
    first_epoch: int,
    epochs: int,
) -> tuple[Any, int]:
    """``train_dataset`` for a ``tf.distribute`` strategy (see the module docstring).

    Returns ``(distributed dataset, steps_per_epoch)``.
    """
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    rows = len(x)
    replicas = int(strategy.num_replicas_in_sync)
    global_batch = per_replica_batch * replicas
    steps = distributed_steps(rows, global_batch)

    def pipeline(context):
        local = replicas // context.num_input_pipelines  # replicas fed by this pipeline
        first_replica = context.input_pipeline_id * local
        features = tf.constant(x)
        labels = tf.constant(y)
        seed_tensor = tf.constant(seed, dtype=tf.int64)

        def epoch_batches(epoch):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(rows, dtype=tf.int64), seed=tf.stack([seed_tensor, epoch]))

            def replica_rows(element):
                step, replica = element // local, first_replica + element % local
                start = step * global_batch + replica * per_replica_batch
                return order[start: start + per_replica_batch]

            return tf.data.Dataset.range(steps * local).map(replica_rows)

        dataset = tf.data.Dataset.range(first_epoch, max(first_epoch, epochs))
        dataset = dataset.flat_map(epoch_batches).map(
            lambda rows_: (tf.gather(features, rows_), tf.gather(labels, rows_)),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = \
            tf.data.experimental.AutoShardPolicy.OFF  # each pipeline took its own rows
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)

    return strategy.distribute_datasets_from_function(pipeline), steps


def eval_dataset(x: np.ndarray, y: np.ndarray | None, *, batch_size: int,
                 shard: bool = False) -> Any:
    """Rows in order, batched, cached and prefetched (validation, test, prediction).

    ``shard``: under a multi-worker strategy each worker evaluates its share of every
    batch (``AutoShardPolicy.DATA``).
    """
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    items = (x, y) if y is not None else x
    dataset = tf.data.Dataset.from_tensor_slices(items).batch(batch_size)
    if shard:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = \
            tf.data.experimental.AutoShardPolicy.DATA
        dataset = dataset.with_options(options)
    return dataset.cache().prefetch(tf.data.AUTOTUNE)
