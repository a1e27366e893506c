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
        if self._ready[ids].all():  # the common case of a live session: nothing new
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

    def step_gather(self, ids: np.ndarray, reverse: bool) -> Callable[[int, object], np.ndarray]:
        """For a recurrent loop: ``gather(t, rows)`` -> the rows of step t's ids (processing
        order: reversed when ``reverse``) for the batch rows ``rows`` (a slice or indices)."""
        self.ensure(ids)
        table = self.table
        ids_by_step = np.ascontiguousarray((ids[:, ::-1] if reverse else ids).T)
        return lambda t, rows: table[ids_by_step[t, rows]]


# ---------------------------------------------------------------------------------- several streams
# A model with several input streams (tokens, n-grams; see rnn_tui.text.features) gets its ids
# as (batch, steps, streams). The sources below read such ids: one stream's rows, the
# concatenation of several streams' rows (what a Concatenate of their embeddings gives), and
# the sum of per-stream rows (a recurrent layer's input projection of that concatenation:
# [a, b] @ K = a @ K[:len(a)] + b @ K[len(a):], so each part is still a per-id table).


class StreamRows:
    """The rows of stream ``stream`` of (..., streams) ids, from ``source``."""

    def __init__(self, source: RowSource, stream: int):
        self.source = source
        self.stream = stream
        self.size = source.size
        self.width = source.width

    def take(self, ids: np.ndarray) -> np.ndarray:
        return self.source.take(ids[..., self.stream])

    def step_gather(self, ids: np.ndarray, reverse: bool):
        return self.source.step_gather(ids[..., self.stream], reverse)


class ConcatRows:
    """Per position, the rows of several sources side by side (a Concatenate of streams)."""

    def __init__(self, parts: list):
        self.parts = list(parts)
        self.width = sum(part.width for part in self.parts)

    def take(self, ids: np.ndarray) -> np.ndarray:
        return np.concatenate([part.take(ids) for part in self.parts], axis=-1)


class SumRows:
    """Per position, the sum of several sources' rows (a projection of a ConcatRows)."""

    def __init__(self, parts: list):
        self.parts = list(parts)
        self.width = self.parts[0].width

    def take(self, ids: np.ndarray) -> np.ndarray:
        total = self.parts[0].take(ids)
        for part in self.parts[1:]:
            total += part.take(ids)
        return total

    def step_gather(self, ids: np.ndarray, reverse: bool):
        gathers = [part.step_gather(ids, reverse) for part in self.parts]
        first, rest = gathers[0], gathers[1:]

        def gather(t, rows):
            total = first(t, rows)  # a new array (fancy indexing): safe to add into
            for other in rest:
                total += other(t, rows)
            return total

        return gather


def derived_rows(source, function: Callable[[np.ndarray], np.ndarray], width: int):
    """``RowSource.derived`` for any single-stream source; None for a ConcatRows (a function
    of several ids at once has no per-id table)."""
    if isinstance(source, RowSource):
        return RowSource.derived(source, function, width)
    if isinstance(source, StreamRows):
        return StreamRows(RowSource.derived(source.source, function, width), source.stream)
    return None


def projected_rows(source, cell):
    """The input projection ``x @ kernel + bias`` of a recurrent cell as per-id rows."""
    if not isinstance(source, ConcatRows):
        return derived_rows(source, cell.project, cell.projection_width)
    parts, start = [], 0
    for index, part in enumerate(source.parts):
        rows = slice(start, start + part.width)
        start += part.width

        def project(x, rows=rows, bias=index == 0):
            return cell.project_part(x, rows, with_bias=bias)

        parts.append(derived_rows(part, project, cell.projection_width))
    return SumRows(parts)
