"""tf.data input pipelines that keep the model busy and make epochs reproducible.

Training batches: each epoch ``e`` visits the rows in the order
``stateless_shuffle(range(n), seed=(seed, e))``, i.e. a pure function of the seed and the
epoch number. So a run resumed at epoch k sees exactly the batches an uninterrupted run would
(a shuffle buffer's state would be lost with the process). The arrays live in memory; a batch
is a ``tf.gather`` of its row ids, done in parallel and prefetched while the model trains.

Length buckets with dynamic padding (``lengths`` given: text padded "post" for a model whose
masking makes pads invisible, see ``rnn_tui.nets.dynamic_padding_exact``): the epoch's order
is cut into chunks of ``BUCKET_CHUNK_BATCHES`` batches, each chunk is sorted by text length
(stably), cut into batches, and the batches are shuffled (``stateless_shuffle`` with seed
``(seed, -1 - e)``); each batch is padded only to its own longest text (the padded arrays are
sliced to that width). Everything stays a function of (seed, epoch), computed in the graph.
On IMDB with maxlen 600 most batches are far shorter than 600 steps.

Evaluation batches are the rows in order (or, with ``lengths``, sorted by length and sliced
to each batch's longest), batched, cached after the first pass and prefetched.

Several input streams (tokens and n-grams): the arrays are (rows, maxlen, streams) and each
batch is given to the model as ``{stream name: ids}``.

Under a ``tf.distribute`` strategy (``distributed_train_dataset``) the same global order is
cut into full global batches and each input pipeline (one per worker) takes its replicas'
slices of every global batch itself: replica ``r`` of step ``s`` gets rows
``order[s*G + r*b : s*G + (r+1)*b]`` (``b`` per replica, ``G = b x replicas``). Every worker
holds the same arrays and computes the same order, so no auto-sharding is needed (it is
turned off) and the batches are those of a single process with batch ``G``. With length
buckets, the global batches are the buckets' (with ``G`` rows; a last, smaller one is left
out, as without buckets) and every replica's slice is padded to its global batch's longest
text, so the steps still equal a single process's with batch ``G``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

BUCKET_CHUNK_BATCHES = 50  # batches per chunk sorted by length (as the recipe study does)


def steps_for(rows: int, batch_size: int) -> int:
    """Batches per epoch (the last one may be smaller)."""
    return max(1, math.ceil(rows / batch_size))


def text_lengths(x: np.ndarray) -> np.ndarray:
    """The real length of each "post"-padded row: its non-pad ids (first stream).

    >>> text_lengths(np.array([[4, 5, 0], [0, 0, 0]]))
    array([2, 0])
    """
    first = x[..., 0] if x.ndim == 3 else x
    return np.count_nonzero(first, axis=1)


def model_feed(x: Any, names: Sequence[str] | None) -> Any:
    """What the model is given for ids ``x``: ``x`` itself, or ``{name: x[..., k]}`` for a
    model with several input streams (works on NumPy arrays and tensors alike)."""
    if not names or len(names) < 2:
        return x
    return {name: x[..., index] for index, name in enumerate(names)}


def _bucketed_order(tf: Any, lengths: Any, rows: int, batch: int, width: int, seed: Any,
                    epoch: Any) -> tuple[Any, Any]:
    """(rows sorted by length within chunks of the epoch's order, the batches' order)."""
    order = tf.random.experimental.stateless_shuffle(
        tf.range(rows, dtype=tf.int64), seed=tf.stack([seed, epoch]))
    chunk = tf.range(rows, dtype=tf.int64) // (batch * BUCKET_CHUNK_BATCHES)
    key = chunk * (width + 1) + tf.gather(lengths, order)
    in_buckets = tf.gather(order, tf.argsort(key, stable=True))
    batches = tf.random.experimental.stateless_shuffle(
        tf.range(steps_for(rows, batch), dtype=tf.int64), seed=tf.stack([seed, -1 - epoch]))
    return in_buckets, batches


def bucket_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int
                   ) -> list[np.ndarray]:
    """The row ids of each batch of one bucketed epoch, in training order (what
    ``train_dataset`` gives with ``lengths``; for tests and inspection).

    >>> batches = bucket_batches(np.array([5, 1, 3, 2, 4]), 2, seed=0, epoch=0)
    >>> sorted(int(i) for batch in batches for i in batch)
    [0, 1, 2, 3, 4]
    """
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    rows = len(lengths)
    in_buckets, batches = _bucketed_order(
        tf, tf.constant(np.asarray(lengths, np.int64)), rows, batch_size,
        int(np.max(lengths, initial=0)), tf.constant(seed, tf.int64),
        tf.constant(epoch, tf.int64))
    in_buckets = in_buckets.numpy()
    return [in_buckets[b * batch_size: (b + 1) * batch_size] for b in batches.numpy()]


def train_dataset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    first_epoch: int,
    epochs: int,
    lengths: np.ndarray | None = None,
    stream_names: Sequence[str] | None = None,
) -> tuple[Any, int]:
    """The batches of epochs ``first_epoch .. epochs-1`` (0-based) as one dataset.

    ``lengths`` (each row's real length, "post" padding) turns on length buckets with
    dynamic padding (see the module docstring); ``stream_names`` feeds a model with several
    input streams.

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

    if lengths is None:
        def epoch_batches(epoch):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(rows, dtype=tf.int64), seed=tf.stack([seed_tensor, epoch]))

            def batch_rows(step):
                start = step * batch_size
                return order[start: tf.minimum(start + batch_size, rows)]

            return tf.data.Dataset.range(steps).map(batch_rows)
    else:
        lengths_tensor = tf.constant(np.asarray(lengths, np.int64))
        width = int(x.shape[1])

        def epoch_batches(epoch):
            in_buckets, batches = _bucketed_order(tf, lengths_tensor, rows, batch_size,
                                                  width, seed_tensor, epoch)

            def batch_rows(step):
                start = step * batch_size
                return in_buckets[start: tf.minimum(start + batch_size, rows)]

            return tf.data.Dataset.from_tensor_slices(batches).map(batch_rows)

    def gather(rows_):
        batch = tf.gather(features, rows_)
        if lengths is not None:  # pad only to the batch's longest text
            batch = batch[:, : tf.maximum(tf.reduce_max(tf.gather(lengths_tensor, rows_)), 1)]
        return model_feed(batch, stream_names), tf.gather(labels, rows_)

    dataset = tf.data.Dataset.range(first_epoch, max(first_epoch, epochs)).flat_map(epoch_batches)
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
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
    lengths: np.ndarray | None = None,
    stream_names: Sequence[str] | None = None,
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
    width = int(x.shape[1]) if x.ndim > 1 else 0

    def pipeline(context):
        local = replicas // context.num_input_pipelines  # replicas fed by this pipeline
        first_replica = context.input_pipeline_id * local
        features = tf.constant(x)
        labels = tf.constant(y)
        seed_tensor = tf.constant(seed, dtype=tf.int64)
        lengths_tensor = None if lengths is None else tf.constant(np.asarray(lengths, np.int64))

        def epoch_batches(epoch):
            if lengths_tensor is None:
                order = tf.random.experimental.stateless_shuffle(
                    tf.range(rows, dtype=tf.int64), seed=tf.stack([seed_tensor, epoch]))
                batches = tf.range(steps, dtype=tf.int64)
            else:
                order, shuffled = _bucketed_order(tf, lengths_tensor, rows, global_batch,
                                                  width, seed_tensor, epoch)
                # the full global batches, in their shuffled order (a short last one is left)
                batches = tf.boolean_mask(shuffled, shuffled < steps)

            def replica_rows(element):
                step = tf.gather(batches, element // local)
                replica = first_replica + element % local
                start = step * global_batch + replica * per_replica_batch
                return (order[start: start + per_replica_batch],
                        order[step * global_batch: (step + 1) * global_batch])

            return tf.data.Dataset.range(steps * local).map(replica_rows)

        def gather(rows_, global_rows):
            batch = tf.gather(features, rows_)
            if lengths_tensor is not None:  # the global batch's longest text, on every replica
                longest = tf.reduce_max(tf.gather(lengths_tensor, global_rows))
                batch = batch[:, : tf.maximum(longest, 1)]
            return model_feed(batch, stream_names), tf.gather(labels, rows_)

        dataset = tf.data.Dataset.range(first_epoch, max(first_epoch, epochs))
        dataset = dataset.flat_map(epoch_batches).map(
            gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = \
            tf.data.experimental.AutoShardPolicy.OFF  # each pipeline took its own rows
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)

    return strategy.distribute_datasets_from_function(pipeline), steps


def eval_dataset(x: np.ndarray, y: np.ndarray | None, *, batch_size: int,
                 shard: bool = False, lengths: np.ndarray | None = None,
                 stream_names: Sequence[str] | None = None) -> Any:
    """Rows in order, batched, cached and prefetched (validation, test, prediction).

    ``lengths``: the rows sorted by length instead, each batch padded to its longest text
    only (see ``sorted_order`` to put predictions back in row order). ``shard``: under a
    multi-worker strategy each worker evaluates its share of every batch
    (``AutoShardPolicy.DATA``).
    """
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    if lengths is None and not (stream_names and len(stream_names) > 1):
        items = (x, y) if y is not None else x
        dataset = tf.data.Dataset.from_tensor_slices(items).batch(batch_size)
    else:
        order = sorted_order(lengths) if lengths is not None else np.arange(len(x))
        features = tf.constant(x)
        labels = None if y is None else tf.constant(y)
        order_tensor = tf.constant(order.astype(np.int64))
        lengths_tensor = None if lengths is None else tf.constant(
            np.asarray(lengths, np.int64))
        count = len(order)

        def batch(step):
            rows_ = order_tensor[step * batch_size: tf.minimum((step + 1) * batch_size, count)]
            ids = tf.gather(features, rows_)
            if lengths_tensor is not None:
                ids = ids[:, : tf.maximum(tf.reduce_max(tf.gather(lengths_tensor, rows_)), 1)]
            feed = model_feed(ids, stream_names)
            return feed if labels is None else (feed, tf.gather(labels, rows_))

        batches = math.ceil(count / batch_size) if count else 0
        dataset = tf.data.Dataset.range(batches).map(batch)
    if shard:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = \
            tf.data.experimental.AutoShardPolicy.DATA
        dataset = dataset.with_options(options)
    return dataset.cache().prefetch(tf.data.AUTOTUNE)


def sorted_order(lengths: np.ndarray) -> np.ndarray:
    """The row order ``eval_dataset`` uses with ``lengths``: by length, stably. Predictions
    ``p`` made in that order go back to row order with ``out[order] = p``."""
    return np.argsort(np.asarray(lengths), kind="stable")


def predict_in_order(model: Any, x: np.ndarray, *, batch_size: int,
                     lengths: np.ndarray | None = None,
                     stream_names: Sequence[str] | None = None,
                     callbacks: Sequence[Any] = ()) -> np.ndarray:
    """``model.predict`` over ``eval_dataset`` batches, returned in row order.

    ``callbacks`` (Keras callbacks) see each batch: ``on_predict_batch_end`` reports progress.
    """
    outputs = model.predict(eval_dataset(x, None, batch_size=batch_size, lengths=lengths,
                                         stream_names=stream_names), verbose=0,
                            callbacks=list(callbacks))
    if lengths is None:
        return outputs
    restored = np.empty_like(outputs)
    restored[sorted_order(lengths)] = outputs
    return restored
