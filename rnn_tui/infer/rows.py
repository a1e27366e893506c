"""Per-token rows computed once: the lookup form of everything a token id determines alone.

An Embedding's output at a position depends on that position's id only, and so does
anything computed from it position by position (a Dense layer on the sequence, an
activation, the input half ``x @ kernel + bias`` of a recurrent step). A ``RowSource`` holds
such a function as a table over the vocabulary, filled lazily: the first time an id is
needed its row is computed (in one matrix product with the other new ids) and kept. A
recurrent layer then reads its projected inputs with one gather per step instead of a
matrix product per step, and a live session computes a new word's projection once.

>>> embedding = RowSource.from_table(np.arange(6, dtype=np.float32).reshape(3, 2))
>>> doubled = RowSource.derived(embedding, lambda rows: rows * 2, width=2)
>>> doubled.take(np.array([[2, 0]])).tolist()
[[[8.0, 10.0], [0.0, 2.0]]]
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np


class RowSource:
    """A (vocabulary, width) float32 table whose rows are computed on first use.

    Thread-safe: rows are filled under a lock; reading a filled row needs none (a filled
    row never changes).
    """

    def __init__(self, size: int, width: int, compute: Callable[[np.ndarray], np.ndarray],
                 table: np.ndarray | None = None):
        self.size = size
        self.width = width
        self._compute = compute
        self._lock = threading.Lock()
        if table is not None:
            self.table = table
            self._ready = None  # everything is ready
        else:
            # np.empty only reserves address space: untouched rows cost no memory.
            self.table = np.empty((size, width), np.float32)
            self._ready = np.zeros(size, bool)

    @classmethod
    def from_table(cls, table: np.ndarray) -> RowSource:
        """A source that is just a table (an Embedding's weights)."""
        table = np.ascontiguousarray(table, np.float32)
        return cls(table.shape[0], table.shape[1], lambda ids: table[ids], table=table)

    @classmethod
    def derived(cls, parent: RowSource, function: Callable[[np.ndarray], np.ndarray],
                width: int) -> RowSource:
        """Rows of ``function(parent rows)``; ``function`` must work row by row."""
        return cls(parent.size, width, lambda ids: function(parent.take(ids)))

    def ensure(self, ids: np.ndarray) -> None:
        """Compute every row among ``ids`` that is not ready yet."""
        if self._ready is None:
            return
        if ids.size <= 64 and self._ready[ids].all():  # the common case of a live session
            return
        unique = np.unique(ids)
        missing = unique[~self._ready[unique]]
        if missing.size == 0:
            return
        with self._lock:
            missing = missing[~self._ready[missing]]
            if missing.size:
                self.table[missing] = self._compute(missing)
                self._ready[missing] = True

    def take(self, ids: np.ndarray) -> np.ndarray:
        """The rows of ``ids`` (any shape): an array of shape ``ids.shape + (width,)``."""
        self.ensure(ids)
        return self.table[ids]

    def row(self, token_id: int) -> np.ndarray:
        """One row as a (1, width) view (ensured)."""
        if self._ready is not None and not self._ready[token_id]:
            self.ensure(np.array([token_id]))
        return self.table[token_id: token_id + 1]
