"""The TensorFlow-free runtime: an exported layer graph evaluated with NumPy.

Each node is prepared and evaluated by its layer kind's module (``rnn_tui.infer.layers``);
this module runs the graph: input checks, sorting rows by length so the rows still computing
form a prefix of the batch, the pad record (the graph over one all-pad row, shared by every
left-padded row), and a live session's memo. Every shortcut is an exact rewrite of what Keras
computes; why the runtime is NumPy and how fast it is: bench/README.md ("Why the runtime is
NumPy").

Several input streams (tokens and n-grams, ``rnn_tui.text.features``): the graph has one
input per stream, each read by an Embedding; ``run`` takes ids of shape (batch, steps,
streams) in the graph's input order. The embeddings' Concatenate stays in lookup form, and a
recurrent layer reading it projects each stream's rows separately and adds them (the same
sum, in another order: within a few 1e-7 of Keras).

A recurrent layer with ``return_state`` also outputs its final states (``"states"`` in the
graph: ``h``, and ``c`` for an LSTM), the states after the last step it computed (with a
mask, after the last real token).

>>> runtime = Runtime.load("runtime.npz")                  # doctest: +SKIP
>>> runtime.run(np.array([[12, 7, 99, 0, 0]])).shape       # doctest: +SKIP
(1, 1)
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.infer import kernels, layers
from rnn_tui.infer.format import read_runtime
from rnn_tui.infer.layers.recurrent import run_direction
from rnn_tui.infer.rows import RowSource
from rnn_tui.infer.values import (
    POINTWISE,
    PREFIX,
    Array,
    Context,
    Direction,
    Node,
    PadRecord,
    Value,
    pad_counts,
    rows_differ,
)

# (re-exported: streaming, the kernels' tests and older callers import them from here)
__all__ = ["POINTWISE", "PREFIX", "Direction", "Node", "PadRecord", "Runtime", "Value",
           "pad_counts", "rows_differ", "run_direction", "single_threaded_blas"]

_blas_configured = False


def single_threaded_blas() -> None:
    """Run NumPy's BLAS on one thread in this process (once; ``RNN_TUI_BLAS_THREADS=N``
    chooses N, ``auto`` leaves OpenBLAS alone).

    The runtime's products are small ((1..256, 128) @ (128, 512)); a multi-threaded
    OpenBLAS spends more on waking its threads than on the arithmetic, and on a busy
    machine far more: measured on two shared cores, 12x slower at batch 64 and 5-30 ms
    spikes on a single text's Conv1D. Uses threadpoolctl when NumPy is already loaded;
    ``rnn-tui predict`` sets OPENBLAS_NUM_THREADS before NumPy loads instead.
    """
    global _blas_configured
    if _blas_configured:
        return
    _blas_configured = True
    wanted = os.environ.get("RNN_TUI_BLAS_THREADS", "1")
    if wanted == "auto" or os.environ.get("OPENBLAS_NUM_THREADS") == wanted:
        return
    from threadpoolctl import threadpool_limits  # a dependency (pyproject.toml)

    try:
        threadpool_limits(int(wanted), user_api="blas")
    except ValueError:
        pass


class Runtime:
    """An exported model, ready to compute outputs from padded ids or numeric sequences.

    Args:
        graph: the decoded ``graph.json`` (see ``rnn_tui.infer.format``).
        weights: float32 arrays by name.

    Thread-safe: ``run`` keeps no state between calls except caches that only grow.
    """

    def __init__(self, graph: dict[str, Any], weights: dict[str, Array]):
        single_threaded_blas()
        self.graph = graph
        spec = graph["inputs"][0]
        self.input_name: str = spec.get("name", "input")
        self.input_tensor: str = spec["tensor"]
        # one tensor per input stream, in the graph's order (ids[..., k] feeds input k)
        self.input_tensors: list[str] = [item["tensor"] for item in graph["inputs"]]
        self.stream_names: list[str] = [item.get("name", "input") for item in graph["inputs"]]
        self.stream_count: int = len(self.input_tensors)
        self.input_dtype: str = spec.get("dtype", "float32")
        shape = spec.get("shape") or [None, None]
        self.sequence_length: int | None = shape[1] if len(shape) > 1 else None
        self.channels: int | None = shape[2] if len(shape) > 2 else None
        self.output_tensor: str = graph["outputs"][0]
        self.dtype: str = graph.get("dtype", "float32")
        self.nodes: list[Node] = []
        self._pad_records: dict[int, PadRecord] = {}
        self._pad_lock = threading.Lock()
        lookup: dict[str, RowSource] = {}  # tensors that are in lookup form, by name
        widths: dict[str, int] = {}
        for entry in graph["nodes"]:
            node = Node(entry["name"], entry["op"], list(entry["inputs"]), entry["output"],
                        dict(entry.get("config", {})), bool(entry.get("mask", False)),
                        states=list(entry.get("states") or []))
            if node.states and node.op != "rnn":
                raise ValueError(f"node {node.name!r}: only a recurrent layer returns states")
            named = {role: weights[key] for role, key in entry.get("weights", {}).items()}
            self._prepare(node, named, lookup, widths)
            self.nodes.append(node)
        readers = {node.inputs[0] for node in self.nodes if layers.OPS[node.op].reads_ids}
        self.input_kind = "ids" if self.input_tensor in readers else "features"
        if self.stream_count > 1:
            unread = [name for name, tensor in zip(self.stream_names, self.input_tensors)
                      if tensor not in readers]
            if unread or any(node.op != "embedding" and set(node.inputs) & set(
                    self.input_tensors) for node in self.nodes):
                raise ValueError("a model with several inputs must read each of them with an "
                                 "Embedding (token and n-gram streams)")
        self.output_width: int = widths.get(self.output_tensor, 0)

    @classmethod
    def load(cls, path: str | Path) -> Runtime:
        """Read ``runtime.npz`` (a DataError names the file if it is damaged)."""
        graph, weights = read_runtime(path)
        try:
            return cls(graph, weights)
        except (KeyError, ValueError, IndexError, TypeError) as error:
            from rnn_tui.errors import DataError

            raise DataError(f"not a usable runtime graph: {error}", path) from None

    # ------------------------------------------------------------------ preparing nodes
    def _prepare(self, node: Node, named: dict[str, Array], lookup: dict[str, RowSource],
                 widths: dict[str, int]) -> None:
        """The node's params and output width, by its kind (``rnn_tui.infer.layers``)."""
        layers.op(node.op).prepare(self, node, named, lookup, widths)

    # ------------------------------------------------------------------ running
    def run(self, inputs: Array, *, chunk_rows: int | None = None,
            exact_length: bool = True) -> Array:
        """Outputs of the model for a batch: ids (batch, steps) or features (batch, steps,
        channels). Returns (batch, outputs) float32.

        ``exact_length=False`` accepts another number of steps than the model's input
        declares (the predictor uses it where that provably changes nothing).

        >>> runtime.run(np.zeros((2, 400), np.int32)).shape        # doctest: +SKIP
        (2, 1)
        """
        inputs = self._check_inputs(inputs, exact_length)
        if len(inputs) == 0:
            return np.zeros((0, self.output_width), np.float32)
        if chunk_rows is None or chunk_rows >= len(inputs):
            return self._run_sorted(inputs)
        return np.concatenate([self._run_sorted(inputs[start: start + chunk_rows])
                               for start in range(0, len(inputs), chunk_rows)])

    def _check_inputs(self, inputs: Array, exact_length: bool = True) -> Array:
        inputs = np.asarray(inputs)
        if self.input_kind == "ids":
            streams = self.stream_count
            if streams == 1 and inputs.ndim != 2:
                raise ValueError(f"expected ids of shape (batch, steps), not {inputs.shape}")
            if streams > 1 and (inputs.ndim != 3 or inputs.shape[2] != streams):
                raise ValueError(f"expected ids of shape (batch, steps, {streams}) for the "
                                 f"streams {', '.join(self.stream_names)}, not {inputs.shape}")
            if inputs.size and not np.issubdtype(inputs.dtype, np.integer):
                if not np.all(np.mod(inputs, 1) == 0):
                    raise ValueError("token ids must be whole numbers")
            inputs = inputs.astype(np.int64, copy=False)
            limits = self._vocabulary_limits()
            for stream, limit in enumerate(limits):
                column = inputs if streams == 1 else inputs[..., stream]
                if column.size and (column.min() < 0 or column.max() >= limit):
                    where = "" if streams == 1 else f" of {self.stream_names[stream]}"
                    raise ValueError(f"token ids{where} must lie in [0, {limit}), found "
                                     f"{column.min()}..{column.max()}")
        else:
            if inputs.ndim != 3:
                raise ValueError(f"expected sequences of shape (batch, steps, channels), "
                                 f"not {inputs.shape}")
            inputs = inputs.astype(np.float32, copy=False)
            if self.channels is not None and inputs.shape[2] != self.channels:
                raise ValueError(f"expected {self.channels} channels, not {inputs.shape[2]}")
        if exact_length and self.sequence_length is not None \
                and inputs.shape[1] != self.sequence_length:
            raise ValueError(f"the model reads {self.sequence_length} steps, not "
                             f"{inputs.shape[1]}")
        return inputs

    def _vocabulary_limits(self) -> list[int]:
        """Per input stream, the ids its embeddings accept (ids < limit)."""
        limits = [None] * self.stream_count
        for node in self.nodes:
            if "table_rows" not in node.params or node.inputs[0] not in self.input_tensors:
                continue
            stream = node.params.get("stream", 0)
            size = node.params["table_rows"]
            limits[stream] = size if limits[stream] is None else min(limits[stream], size)
        return [limit or 0 for limit in limits]

    def _run_sorted(self, inputs: Array) -> Array:
        """Run with rows sorted so that active rows form prefixes; restore the order."""
        if self.input_kind != "ids" or len(inputs) < 2:
            return self.evaluate(inputs)
        lead, trail = pad_counts(inputs)
        order = np.lexsort((trail, lead))  # lead ascending, then trail ascending
        if np.all(order[1:] > order[:-1]):
            return self.evaluate(inputs)
        result = self.evaluate(inputs[order])
        restored = np.empty_like(result)
        restored[order] = result
        return restored

    def evaluate(self, inputs: Array, *, record: dict | None = None,
                 share: bool = True, memo: dict | None = None) -> Array:
        """Evaluate the graph on a batch as given (no sorting); see ``run``.

        ``record`` (a dict) receives the pad-record data when evaluating the all-pad row;
        ``share=False`` turns off the pad-record shortcut. ``memo`` (a dict kept by the
        caller between calls on one row at a time) lets forward recurrent passes reuse the
        previous call's states up to the first step whose input changed: a live session of
        a Bidirectional model then recomputes only the backward pass.
        """
        values = self.evaluate_values(inputs, record=record, share=share, memo=memo)
        return values[self.output_tensor].materialize()

    def evaluate_values(self, inputs: Array, *, record: dict | None = None,
                        share: bool = True, memo: dict | None = None) -> dict[str, Value]:
        """Every tensor's value (see ``evaluate``)."""
        if self.stream_count > 1:
            tensors = {tensor: Value(data=inputs[..., k])
                       for k, tensor in enumerate(self.input_tensors)}
        else:
            tensors = {self.input_tensor: Value(data=inputs)}
        context = Context(inputs, share and self.input_kind == "ids")
        context.memo = memo if len(inputs) == 1 else None
        # a live session's recomputation runs the compiled step loops once they are ready
        context.loops = kernels.ready() if context.memo is not None else None
        for node in self.nodes:
            tensors[node.output] = self._evaluate_node(node, [tensors[n] for n in node.inputs],
                                                       context, record)
            if node.states:
                for name, state in zip(node.states, context.final_states.pop(node.name)):
                    tensors[name] = Value(data=state)
        return tensors

    def pad_ids(self, rows: int, steps: int) -> Array:
        """All-pad ids of this model's shape: (rows, steps) or (rows, steps, streams)."""
        extra = (self.stream_count,) if self.stream_count > 1 else ()
        return np.zeros((rows, steps, *extra), np.int64)

    def pad_record(self, steps: int) -> PadRecord:
        """The graph run over one row of ``steps`` pad ids (computed once per length)."""
        with self._pad_lock:
            cached = self._pad_records.get(steps)
            if cached is not None:
                return cached
            record: dict[str, Any] = {"states": {}, "outputs": {}}
            values = self.evaluate_values(self.pad_ids(1, steps), record=record, share=False)
            materialized = {name: value.materialize()[0] for name, value in values.items()
                            if name not in self.input_tensors}
            result = PadRecord(record["states"], record["outputs"], materialized)
            self._pad_records[steps] = result
            return result

    # ------------------------------------------------------------------ one node
    def _evaluate_node(self, node: Node, inputs: list[Value], context: Context,
                       record: dict | None) -> Value:
        return layers.op(node.op).evaluate(self, node, inputs, context, record)
