"""``pad_sequences`` with the semantics of ``keras.utils.pad_sequences``, without TensorFlow.

Keras' version is the reference (the tests compare against it); this one exists so that
prediction and the TUI can pad without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    maxlen: int | None = None,
    dtype: str = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float = 0.0,
) -> np.ndarray:
    """Pad (and cut) sequences to one length.

    Args:
        sequences: lists of ids.
        maxlen: the length of the result; None means the longest sequence.
        dtype: dtype of the result.
        padding: "pre" puts the padding before each sequence (Keras' default), "post" after.
        truncating: "pre" drops the start of longer sequences (keeps the end), "post" the end.
        value: the padding value.

    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post").tolist()
    [[2, 3], [4, 0]]
    """
    if padding not in ("pre", "post"):
        raise ValueError(f'padding must be "pre" or "post", not {padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(f'truncating must be "pre" or "post", not {truncating!r}')
    if maxlen is not None and maxlen < 0:
        raise ValueError(f"maxlen must be >= 0, not {maxlen}")
    lengths = [len(s) for s in sequences]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    result = np.full((len(lengths), maxlen), value, dtype=dtype)
    if maxlen == 0:
        return result
    for row, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if padding == "post":
            result[row, : len(kept)] = kept
        else:
            result[row, maxlen - len(kept) :] = kept
    return result
