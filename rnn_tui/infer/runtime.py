"""The TensorFlow-free runtime: an exported layer graph evaluated with NumPy.

Why NumPy, and not onnxruntime on an exported ONNX graph: we measured both on the same
weights (bench/predict_engines.py; figures in bench/README.md, "predict_engines.py"). For
Embedding(20000, 128) + LSTM/GRU(128) + pooling, on two shared CPU cores:

- import + load in a fresh process: the same (~0.10-0.16 s each; NumPy is loaded anyway);
- per keystroke on a 100-token review: NumPy streaming p50 ~0.18 ms; onnxruntime running
  the whole graph ~0.55 ms, and streaming through a one-step graph ~0.20 ms (a session
  call costs ~20-40 us of fixed overhead, about a NumPy step's worth);
- batch throughput on IMDB reviews, one thread each: the same (1,800-2,200 reviews/s);
  onnxruntime's second thread helped the GRU (+30%) and slowed the LSTM on this busy
  machine;
- one long text recomputed whole: onnxruntime is faster (0.8 ms against 2 ms for 175
  tokens: its loop is in C++), which a command-line call (0.15 s process) and the live
  session (streaming) never notice.

Streaming needs step-level control that a whole-graph engine does not give, and one engine
means one implementation of Keras' semantics to keep exact (masks, go_backwards,
padding); every path here passes the same parity tests. So: NumPy, with no onnxruntime
dependency.

What makes it fast:

- token-determined values (embeddings, the input half of recurrent steps) are computed once
  per vocabulary id and gathered (``rows.RowSource``);
- rows are sorted by length, so at every step the rows that still compute are a prefix of the
  batch (a slice, no copies), and masked steps past a text's end cost nothing;
- left padding without a mask makes every text start with the same run over pad ids: that
  run is computed once per sequence length (the "pad record") and every row joins it at its
  own first real token, so a review of 100 tokens costs 100 steps, not ``maxlen``.

- NumPy's BLAS runs on one thread (``single_threaded_blas``): the products are small, and
  waking OpenBLAS' threads cost more than the arithmetic (up to 12x on a busy machine).

None of this changes a result: each is an exact rewrite of what Keras computes (the pad
record is the same arithmetic on the same inputs).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.infer import kernels, ops
from rnn_tui.infer.format import read_runtime
from rnn_tui.infer.rows import (
    ConcatRows,
    RowSource,
    StreamRows,
    derived_rows,
    projected_rows,
)

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
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up: without it BLAS keeps its default
        return
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
        readers = {node.inputs[0] for node in self.nodes if node.op == "embedding"}
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
        config, op = node.config, node.op
        source = lookup.get(node.inputs[0]) if node.inputs else None
        in_width = widths.get(node.inputs[0]) if node.inputs else None
        if op == "embedding":
            table = named["embeddings"]
            rows = RowSource.from_table(table)
            node.params["table_rows"] = rows.size
            if self.stream_count > 1:
                stream = self.input_tensors.index(node.inputs[0])
                node.params["stream"] = stream
                rows = StreamRows(rows, stream)
            node.params["rows"] = rows
            lookup[node.output] = rows
            widths[node.output] = table.shape[1]
        elif op == "identity":
            if source is not None:
                lookup[node.output] = source
            widths[node.output] = in_width
        elif op == "activation":
            function = ops.activation(config["activation"])
            node.params["function"] = function
            if source is not None:  # even softmax: it works along the last axis, per row
                derived = derived_rows(source, function, in_width)
                if derived is not None:
                    node.params["lookup"] = lookup[node.output] = derived
            widths[node.output] = in_width
        elif op == "dense":
            kernel, bias = named["kernel"], named.get("bias")
            function = ops.activation(config.get("activation", "linear"))

            def dense(x: Array, kernel=kernel, bias=bias, function=function) -> Array:
                y = x @ kernel
                if bias is not None:
                    y += bias
                return function(y)

            node.params["function"] = dense
            if source is not None:
                derived = derived_rows(source, dense, kernel.shape[1])
                if derived is not None:
                    node.params["lookup"] = lookup[node.output] = derived
            widths[node.output] = kernel.shape[1]
        elif op in ("rnn", "bidirectional"):
            directions = []
            if op == "rnn":
                directions.append(self._direction(config, named, "", source, reverse=None))
            else:
                directions.append(self._direction(config["forward"], named, "forward/", source,
                                                  reverse=None, bidirectional=True))
                directions.append(self._direction(config["backward"], named, "backward/",
                                                  source, reverse=None, bidirectional=True))
                if config.get("merge_mode", "concat") not in ("concat", "sum", "ave", "mul"):
                    raise ValueError(f"merge_mode {config.get('merge_mode')!r} is not supported")
            node.params["directions"] = directions
            units = sum(d.cell.units for d in directions) if config.get(
                "merge_mode", "concat") == "concat" else directions[0].cell.units
            widths[node.output] = units
            if node.states:
                cell = directions[0].cell
                if op != "rnn" or len(node.states) != cell.state_count:
                    raise ValueError(f"node {node.name!r}: a {cell.kind} returns "
                                     f"{cell.state_count} state(s), not {len(node.states)}")
                for name in node.states:
                    widths[name] = cell.units
        elif op == "conv1d":
            node.params["kernel"] = named["kernel"]
            node.params["bias"] = named.get("bias")
            node.params["function"] = ops.activation(config.get("activation", "linear"))
            widths[node.output] = named["kernel"].shape[2]
        elif op in ("max_pooling1d", "global_max_pooling1d", "global_average_pooling1d"):
            widths[node.output] = in_width
        elif op == "flatten":
            steps = config.get("steps")
            widths[node.output] = in_width * steps if steps and in_width else 0
        elif op == "concatenate":
            if config.get("axis", -1) not in (-1, config.get("rank", 0) - 1):
                raise ValueError("Concatenate is supported on the last axis only")
            widths[node.output] = sum(widths.get(name) or 0 for name in node.inputs)
            sources = [lookup.get(name) for name in node.inputs]
            if all(item is not None for item in sources):  # embeddings side by side
                node.params["lookup"] = lookup[node.output] = ConcatRows(sources)
        else:
            raise ValueError(f"unknown op {op!r}")

    def _direction(self, config: dict[str, Any], named: dict[str, Array], prefix: str,
                   source: RowSource | None, reverse, bidirectional: bool = False) -> Direction:
        cell = ops.RecurrentCell.from_weights(
            config["cell"], units=config["units"],
            kernel=named[prefix + "kernel"], recurrent_kernel=named[prefix + "recurrent_kernel"],
            bias=named.get(prefix + "bias"),
            activation=config.get("activation", "tanh"),
            recurrent_activation=config.get("recurrent_activation", "sigmoid"),
            reset_after=config.get("reset_after", True),
        )
        return_sequences = bool(config.get("return_sequences", False))
        zero_output = bool(config.get("zero_output_for_mask", False))
        if bidirectional:  # Keras forces this on both halves of a Bidirectional
            zero_output = return_sequences
        projection = None
        if source is not None:
            projection = projected_rows(source, cell)
        return Direction(cell, bool(config.get("go_backwards", False)), return_sequences,
                         zero_output, projection)

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
            if node.op != "embedding" or node.inputs[0] not in self.input_tensors:
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
        context = _Context(inputs, share and self.input_kind == "ids")
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
    def _evaluate_node(self, node: Node, inputs: list[Value], context: _Context,
                       record: dict | None) -> Value:
        op, config = node.op, node.config
        first = inputs[0]
        if op == "embedding":
            ids = first.data if "stream" not in node.params else context.ids
            mask = first.data != 0 if config.get("mask_zero") else None
            return Value(ids=ids, rows=node.params["rows"], mask=mask, share=POINTWISE)
        if op == "identity":
            return first
        if op in ("activation", "dense"):
            function = node.params["function"]
            if first.is_lookup and "lookup" in node.params:
                return Value(ids=first.ids, rows=node.params["lookup"], mask=first.mask,
                             share=first.share)
            data = function(first.materialize())
            keep_mask = data.ndim == 3
            return Value(data=data, mask=first.mask if keep_mask else None,
                         share=first.share if keep_mask else None)
        if op == "rnn":
            return self._recurrent(node, first, context, record)
        if op == "bidirectional":
            return self._recurrent(node, first, context, record)
        if op == "conv1d":
            return Value(data=self._conv1d(node, first, context))
        if op == "max_pooling1d":
            pool = config["pool_size"]
            return Value(data=ops.max_pool1d(first.materialize(), pool=pool,
                                             stride=config.get("strides") or pool,
                                             padding=config.get("padding", "valid")))
        if op == "global_max_pooling1d":
            return Value(data=np.max(first.materialize(), axis=1,
                                     keepdims=bool(config.get("keepdims"))))
        if op == "global_average_pooling1d":
            data = first.materialize()
            keepdims = bool(config.get("keepdims"))
            if first.mask is None:
                return Value(data=np.mean(data, axis=1, keepdims=keepdims, dtype=np.float32))
            weights = first.mask[:, :, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                total = np.sum(np.where(weights, data, np.float32(0)), axis=1,
                               keepdims=keepdims)
                count = np.sum(weights, axis=1, keepdims=keepdims, dtype=np.float32)
                return Value(data=(total / count).astype(np.float32, copy=False))
        if op == "flatten":
            data = first.materialize()
            return Value(data=data.reshape(len(data), -1))
        if op == "concatenate":
            lookup = node.params.get("lookup")
            if lookup is not None and all(value.is_lookup for value in inputs):
                # embeddings side by side stay per-id rows (materialized only if needed)
                masks = [value.mask for value in inputs if value.mask is not None]
                shares = {value.share for value in inputs}
                return Value(ids=context.ids if self.stream_count > 1 else first.ids,
                             rows=lookup,
                             mask=np.logical_or.reduce(masks) if masks else None,
                             share=POINTWISE if shares == {POINTWISE} else None)
            arrays = [value.materialize() for value in inputs]
            data = np.concatenate(arrays, axis=-1)
            mask = None
            if data.ndim == 3 and any(value.mask is not None for value in inputs):
                # Keras: a step is masked only where every input is (the exporter refuses
                # concatenating masked with unmasked sequences)
                mask = np.logical_or.reduce([value.mask for value in inputs
                                             if value.mask is not None])
            shares = {value.share for value in inputs}
            share = None if None in shares or data.ndim != 3 else (
                POINTWISE if shares == {POINTWISE} else PREFIX)
            return Value(data=data, mask=mask, share=share)
        raise ValueError(f"unknown op {op!r}")

    def _conv1d(self, node: Node, first: Value, context: _Context) -> Array:
        """A Conv1D layer and its activation; in a live session (``memo``) only the
        windows over inputs that changed since the last call are computed."""
        config, params = node.config, node.params
        options = dict(stride=config.get("strides", 1), padding=config.get("padding", "valid"),
                       dilation=config.get("dilation_rate", 1))
        slot = None if context.memo is None else context.memo.setdefault((node.name, "conv"),
                                                                         {})
        # what decides the input rows: the ids (an embedding) or the rows themselves
        key = (first.ids if first.is_lookup else first.data)[0]
        x = first.materialize()
        previous = None if slot is None else slot.get("key")
        if previous is not None and previous.shape == key.shape:
            differs = np.flatnonzero(rows_differ(previous, key))
            out = slot["out"] if not differs.size else ops.conv1d_update(
                x, slot["out"], differs, params["kernel"], params["bias"],
                params["function"], **options)
        else:
            out = params["function"](ops.conv1d(x, params["kernel"], params["bias"], **options))
        if slot is not None:  # kept unchanged: a later call copies what it changes
            slot.update(key=key.copy(), out=out)
        return out

    # ------------------------------------------------------------------ recurrent layers
    def _recurrent(self, node: Node, first: Value, context: _Context,
                   record: dict | None) -> Value:
        directions: list[Direction] = node.params["directions"]
        results = []
        for index, direction in enumerate(directions):
            reverse = direction.reverse
            shared = None
            if context.share and first.share is not None:
                if not reverse:
                    shared = context.lead
                elif first.share == POINTWISE:
                    shared = context.trail
            trajectory = None
            if shared is not None and np.any(shared > 0):
                pad = self.pad_record(context.steps)
                trajectory = (pad.states[(node.name, index)], pad.outputs[(node.name, index)])
            else:
                shared = None
            slot = None
            if context.memo is not None and not reverse and record is None:
                slot = context.memo.setdefault((node.name, index), {})
            outputs, states, outs, final = run_direction(
                direction, first, shared, trajectory, record is not None, slot, context.loops)
            if record is not None:
                record["states"][(node.name, index)] = states
                record["outputs"][(node.name, index)] = outs
            results.append(outputs)
            if node.states:
                context.final_states[node.name] = final
        if node.op == "rnn":
            result = results[0]
            sequences = directions[0].return_sequences
            keeps_prefix = sequences and not directions[0].reverse and first.share is not None
            return Value(data=result, mask=first.mask if sequences else None,
                         share=PREFIX if keeps_prefix else None)
        forward, backward = results
        if directions[1].return_sequences:
            backward = backward[:, ::-1]
        mode = node.config.get("merge_mode", "concat")
        if mode == "concat":
            data = np.concatenate([forward, backward], axis=-1)
        elif mode == "sum":
            data = forward + backward
        elif mode == "ave":
            data = (forward + backward) / np.float32(2)
        else:
            data = forward * backward
        sequences = directions[0].return_sequences
        return Value(data=data, mask=first.mask if sequences else None)


class _Context:
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


# ---------------------------------------------------------------------------------- the loop


def run_direction(direction: Direction, value: Value, shared: Array | None,
                  trajectory: tuple[list[Array], Array] | None, record: bool,
                  memo: dict | None = None, loops: Any = None
                  ) -> tuple[Array, list[Array] | None, Array | None, tuple[Array, ...]]:
    """One recurrent pass over a batch, exactly as Keras' ``backend.rnn`` computes it.

    Args:
        direction: the cell and its settings.
        value: the input (lookup form or dense (batch, steps, features)) and its mask.
        shared: per row, how many leading steps (in processing order) equal the pad record's;
            None when not sharing.
        trajectory: the pad record of this pass: states after each step (steps + 1 entries,
            one array per state) and outputs (steps, units).
        record: also return the states after each step and the outputs (batch must be 1).
        memo: for one row and a forward pass, the previous call's per-step states, reused up
            to the first step whose input changed (see ``Runtime.evaluate``).
        loops: for one row, the compiled step loops to use (``kernels.ready()``), or None.

    Returns:
        (outputs, recorded states or None, recorded outputs or None, final states); outputs
        are (batch, steps, units) in processing order with ``return_sequences``, else
        (batch, units); the final states (``return_state``) are (batch, units) each.
    """
    cell = direction.cell
    reverse = direction.reverse
    ids = value.ids if value.is_lookup else None
    batch, steps = (ids.shape[:2] if ids is not None else value.data.shape[:2])
    units = cell.units
    mask = value.mask
    if reverse:
        mask = None if mask is None else mask[:, ::-1]
    # active[b, t]: row b computes step t (processing order)
    active = np.ones((batch, steps), bool) if mask is None else mask.copy()
    if shared is not None:
        joined = np.arange(steps)[None, :] >= shared[:, None]
        active &= joined
    if batch == 1 and not record:
        outputs, final = _run_one_row(direction, value, active[0], mask is not None,
                                      None if shared is None else int(shared[0]), trajectory,
                                      memo, loops)
        return outputs, None, None, final
    counts = active.sum(axis=0)
    prefix = np.all(active[1:] <= active[:-1], axis=0) if batch > 1 else np.ones(steps, bool)
    joined_counts = None
    shared_sorted = False
    if shared is not None:
        joined_counts = np.searchsorted(np.sort(shared), np.arange(steps), side="right")
        shared_sorted = bool(np.all(shared[1:] >= shared[:-1]))
    track_masked = mask is not None and (direction.zero_output_for_mask or shared is not None)

    # input projections: lookup tables, or blocks of dense inputs
    if ids is not None:
        gather = direction.projection.step_gather(ids, reverse)
        dense = None
    else:
        dense = value.data[:, ::-1] if reverse else value.data
        gather = None
    block = 32
    block_start, block_proj = -block, None

    states = list(cell.initial_state(batch))
    outputs = np.empty((batch, steps, units), np.float32) if direction.return_sequences \
        else None
    recorded_states = [np.empty((steps + 1, units), np.float32) for _ in states] if record \
        else None
    recorded_outputs = np.empty((steps, units), np.float32) if record else None
    if record:
        for slot, state in zip(recorded_states, states):
            slot[0] = state[0]
    last = None
    for t in range(steps):
        if shared is not None:  # rows whose shared part ends here take the record's state
            if shared_sorted:
                start = joined_counts[t - 1] if t else 0
                entering = slice(start, joined_counts[t])
                entering_any = joined_counts[t] > start
            else:
                entering = np.flatnonzero(shared == t)
                entering_any = entering.size > 0
            if entering_any:
                for state, recorded in zip(states, trajectory[0]):
                    state[entering] = recorded[t]
        count = counts[t]
        if count:
            rows = slice(0, count) if prefix[t] else np.flatnonzero(active[:, t])
            if gather is not None:
                projected = gather(t, rows)
            else:
                if not block_start <= t < block_start + block:
                    block_start = t
                    block_proj = cell.project(dense[:, t: t + block])
                projected = block_proj[rows, t - block_start]
            new_states = cell.step(projected, tuple(state[rows] for state in states))
            for state, new in zip(states, new_states):
                state[rows] = new
        # the output of step t for every row
        if outputs is not None or t == steps - 1 or record:
            out = states[0].copy() if outputs is None else outputs[:, t]
            if outputs is not None:
                out[:] = states[0]
            if track_masked and direction.zero_output_for_mask:
                inactive_joined = ~active[:, t] if shared is None else \
                    (~active[:, t]) & (t >= shared)
                out[inactive_joined] = 0.0
            if shared is not None:
                if shared_sorted:
                    out[joined_counts[t]:] = trajectory[1][t]
                else:
                    out[shared > t] = trajectory[1][t]
            last = out
        if record:
            for slot, state in zip(recorded_states, states):
                slot[t + 1] = state[0]
            recorded_outputs[t] = last[0]
    if shared is not None:  # rows that are all pads never joined: the record's last states
        never = shared >= steps
        if never.any():
            for state, recorded in zip(states, trajectory[0]):
                state[never] = recorded[steps]
    final = tuple(states)
    if outputs is not None:
        return outputs, recorded_states, recorded_outputs, final
    if last is None:  # zero steps
        last = np.zeros((batch, units), np.float32)
    return last, recorded_states, recorded_outputs, final


def _run_one_row(direction: Direction, value: Value, active: Array, masked: bool,
                 shared: int | None, trajectory: tuple[list[Array], Array] | None,
                 memo: dict | None = None, loops: Any = None
                 ) -> tuple[Array, tuple[Array, ...]]:
    """``run_direction`` for a single row: the same arithmetic with far less bookkeeping
    (one text, as ``predict "..."`` and a live session that recomputes give it). Returns
    (outputs, final states).

    The states live in one array per state, row ``t`` holding the state before step ``t``;
    the cell's ``run_row`` writes them in place, a contiguous run of unmasked steps at a
    time. With ``memo`` (a forward pass): the state after step t depends on the inputs (and
    mask) of steps 0..t only, so the previous call's states are reused up to the first step
    whose input differs, compared exactly (ids, or the input rows bit for bit).
    """
    cell = direction.cell
    reverse = direction.reverse
    steps = len(active)
    if value.is_lookup:
        key = value.ids[0, ::-1] if reverse else value.ids[0]  # what decides each step
    else:
        key = value.data[0, ::-1] if reverse else value.data[0]
    history = [np.empty((steps + 1, 1, cell.units), np.float32)
               for _ in range(cell.state_count)]
    start = 0
    if shared is not None and trajectory is not None and shared > 0:
        start = min(shared, steps)
        for slot, recorded in zip(history, trajectory[0]):
            slot[: start + 1, 0] = recorded[: start + 1]
    else:
        for slot in history:
            slot[0] = 0.0
    shared_end = start  # the outputs before it are the pad record's
    if memo is not None:
        previous = memo.get("key")
        if previous is not None and previous.shape == key.shape and \
                memo.get("masked") == masked:
            changed = rows_differ(previous, key) | (memo["active"] != active)
            differs = np.flatnonzero(changed)
            reuse = int(differs[0]) if differs.size else steps
            if reuse > start:
                for slot, old in zip(history, memo["history"]):
                    slot[start + 1: reuse + 1] = old[start + 1: reuse + 1]
                start = reuse
    if start < steps:
        _run_steps(direction, value.is_lookup, key, active, history, start, loops)
    if memo is not None:
        memo.update(key=key.copy(), active=active.copy(), masked=masked, history=history)
    zero_output = direction.zero_output_for_mask and masked
    final = tuple(slot[steps].copy() for slot in history)
    if direction.return_sequences:
        outputs = history[0][1:, 0].copy()
        if shared_end:
            outputs[:shared_end] = trajectory[1][:shared_end]
        if zero_output:
            outputs[shared_end:][~active[shared_end:]] = 0.0
        return outputs[None], final
    if steps == 0 or (zero_output and not active[steps - 1] and steps > shared_end):
        last = np.zeros((1, cell.units), np.float32)
    elif steps <= shared_end:  # the whole row was pads shared with the pad record
        last = trajectory[1][steps - 1][None, :].copy()
    else:
        last = final[0].copy()
    return last, final


def _run_steps(direction: Direction, lookup: bool, key: Array, active: Array,
               history: list[Array], start: int, loops: Any = None) -> None:
    """Fill ``history`` from row ``start + 1`` on: the unmasked runs of steps through the
    cell, masked steps carrying the state, and a run of one repeated input skipped once
    the state stops changing (every further step of that input would keep it)."""
    cell = direction.cell
    steps = len(active)
    # repeated[t]: step t reads the same input as step t - 1 (a run of pads, say)
    repeated = np.zeros(steps, bool)
    first = max(start, 1)
    if steps > first:
        repeated[first:] = ~rows_differ(key[first:], key[first - 1: -1])
    projected = np.empty((steps, cell.projection_width), np.float32)
    if lookup:
        projected[start:] = direction.projection.take(key[start:])
    else:  # dense inputs: one product per distinct run (the pad windows after a Conv1D)
        fresh = ~repeated[start:]
        fresh[0] = True
        projected[start:] = cell.project(key[start:][fresh])[np.cumsum(fresh) - 1]
    flags = np.zeros(steps - start + 2, np.int8)
    flags[1:-1] = active[start:]
    edges = np.flatnonzero(np.diff(flags)) + start  # [begin, end) of each unmasked run
    done = start
    for begin, end in zip(edges[0::2].tolist(), edges[1::2].tolist()):
        _carry(history, done, begin)
        t = begin
        while t < end:
            t = cell.run_row(projected, history, t, end, repeated, loops)
            if t < end:  # a fixed point: skip the rest of this input's run
                runs = ~repeated[t:end]
                skip_to = t + int(np.argmax(runs)) if runs.any() else end
                _carry(history, t, skip_to)
                t = skip_to
        done = end
    _carry(history, done, steps)


def rows_differ(a: Array, b: Array) -> Array:
    """Per position (first axis): whether two inputs differ there, ids or rows compared
    exactly (what decides whether a step, or a convolution window, must be recomputed)."""
    flags = a != b
    return flags.any(axis=tuple(range(1, flags.ndim))) if flags.ndim > 1 else flags


def _carry(history: list[Array], begin: int, end: int) -> None:
    """Steps ``begin..end-1`` leave the state as it was before step ``begin``."""
    if end > begin:
        for slot in history:
            slot[begin + 1: end + 1] = slot[begin]
