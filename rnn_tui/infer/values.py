"""What the runtime's nodes pass between them: values in dense or lookup form, and the
per-evaluation context; shared by the runtime, its layer modules and streaming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnn_tui.infer import ops

Array = np.ndarray

POINTWISE = "pointwise"  # the value at (row, t) depends on ids[row, t] only
PREFIX = "prefix"  # before a row's first real token, the value equals the pad record's


@dataclass
class Value:
    """A tensor during evaluation: dense ``data``, or ``ids`` + ``rows`` (lookup form)."""

    data: Array | None = None
    ids: Array | None = None  # (batch, steps), or (batch, steps, streams) with several inputs
    rows: Any = None  # RowSource, or a StreamRows / ConcatRows / SumRows over several streams
    mask: Array | None = None  # (batch, steps) bool, as Keras would attach it
    share: str | None = None  # POINTWISE, PREFIX or None (see the module docstring)

    def materialize(self) -> Array:
        if self.data is None:
            self.data = self.rows.take(self.ids)
        return self.data

    @property
    def is_lookup(self) -> bool:
        return self.data is None


@dataclass
class Direction:
    """One recurrent pass: a cell, its direction and how its outputs are returned."""

    cell: ops.RecurrentCell
    reverse: bool
    return_sequences: bool
    zero_output_for_mask: bool
    projection: Any = None  # per-id rows of the input projection (input in lookup form)


@dataclass
class Node:
    """One layer of the graph, with its weights prepared for evaluation."""

    name: str
    op: str
    inputs: list[str]
    output: str
    config: dict[str, Any]
    keras_mask: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)  # final-state outputs (return_state)


@dataclass
class PadRecord:
    """The graph run over one all-padding row: per recurrent pass, states and outputs."""

    states: dict[tuple[str, int], list[Array]]  # (node, direction) -> (steps + 1, units) each
    outputs: dict[tuple[str, int], Array]  # (node, direction) -> (steps, units)
    values: dict[str, Array]  # tensor -> its materialized value for the pad row


class Context:
    """Per-evaluation facts shared by the nodes: pad counts of the ids."""

    def __init__(self, inputs: Array, share: bool):
        self.ids = inputs  # every stream's ids (embeddings of several streams read them)
        self.final_states: dict[str, tuple[Array, ...]] = {}
        self.steps = inputs.shape[1]
        self.share = share and self.steps > 0
        if self.share:
            self.lead, self.trail = pad_counts(inputs)
        else:
            self.lead = self.trail = None
        self.memo: dict | None = None
        self.loops: Any = None


def pad_counts(ids: Array) -> tuple[Array, Array]:
    """Per row: how many pad ids (0) lead and trail. An all-pad row counts fully in both.

    With several streams (batch, steps, streams) the first stream decides: every stream has
    its pads at the same positions."""
    if ids.ndim == 3:
        ids = ids[..., 0]
    nonzero = ids != 0
    steps = ids.shape[1]
    has_token = nonzero.any(axis=1)
    lead = np.where(has_token, np.argmax(nonzero, axis=1), steps)
    trail = np.where(has_token, np.argmax(nonzero[:, ::-1], axis=1), steps)
    return lead.astype(np.int64), trail.astype(np.int64)




def rows_differ(a: Array, b: Array) -> Array:
    """Per position (first axis): whether two inputs differ there, ids or rows compared
    exactly (what decides whether a step, or a convolution window, must be recomputed)."""
    flags = a != b
    return flags.any(axis=tuple(range(1, flags.ndim))) if flags.ndim > 1 else flags
