"""Streaming: keep the recurrent state per token position and compute only what changed.

A unidirectional model reads a text left to right, so its state after token ``k`` depends
on tokens ``0..k`` only. ``IdStream`` keeps, for every position, each recurrent layer's
state and each pooling layer's running max / sum. When the ids change (a character typed
changes the last token, or adds one), it finds the first position that differs and
recomputes from there: one step per changed token, usually one.

Padding is reproduced exactly, as Keras sees it:

- right ("post") padding with a mask: the pads change nothing in the recurrent states;
  their contribution (a carried output, or the pad's own embedding for a pooling that
  ignores masks) is one extra evaluation, whatever their number;
- right padding without a mask: the recurrent layers really run over the pads after the
  text; that tail is computed from the text's final state on each update, and stops early
  once the state stops changing (a fixed point: every further pad step is the same);
- left ("pre") padding: every text starts with the same run over pads, computed once (the
  runtime's pad record). With a mask, or once that run reaches a fixed point, the text's
  tokens start from a state that no longer depends on how many pads precede them, so they
  stream. Before that (a text nearly ``maxlen`` long, a model whose pad run never settles)
  the state a text starts from changes with its length, and each update recomputes it.

Models that read backwards or mix neighbours (Bidirectional, go_backwards, Conv1D,
MaxPooling1D, Flatten) cannot stream; ``RecomputeStream`` gives them the same interface
and recomputes the padded text (the runtime keeps that fast).

Several input streams (tokens and n-grams): the ids are given per position as a tuple, an
array of shape (tokens, streams); the n-gram ending at a position depends only on the tokens
up to it, so an edit at the end changes the last position's ids in every stream and
nothing before. A recurrent layer's final states (``return_state``, pooled as "last") come
from the per-position stacks like its outputs.

>>> stream = make_stream(runtime, maxlen=400, padding="post", truncating="pre")  # doctest: +SKIP
>>> stream.update([12, 7, 99])          # raw model outputs for the text  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from rnn_tui.infer import kernels
from rnn_tui.infer.layers import OPS
from rnn_tui.infer.layers.base import CAUSAL, RECURRENT, REDUCER
from rnn_tui.infer.runtime import Node, Runtime, Value, rows_differ

Array = np.ndarray
# by each op's streaming role in the layer table (``rnn_tui.infer.layers``)
CAUSAL_OPS = {name for name, op in OPS.items() if op.stream == CAUSAL}
REDUCERS = {name for name, op in OPS.items() if op.stream == REDUCER}


def streaming_support(graph: dict[str, Any]) -> tuple[bool, str]:
    """Whether a graph can stream (see the module docstring), and why (not).

    >>> streaming_support({"inputs": [{"tensor": "t0"}], "nodes": [
    ...     {"name": "bilstm_1", "op": "bidirectional", "inputs": ["t0"], "output": "t1"}]})
    (False, "layer 'bilstm_1' (Bidirectional) also reads the text backwards: every update recomputes it")
    """
    kinds = {item["tensor"]: "seq" for item in graph["inputs"]}
    embedded = False
    for node in graph["nodes"]:
        name = node["name"]
        op = OPS.get(node["op"])
        incoming = {kinds.get(tensor) for tensor in node["inputs"]}
        config = node.get("config", {})
        if op is not None and op.reads_ids:
            embedded = True
        if incoming == {"vec"}:
            if op is not None and op.stream == CAUSAL:
                kinds[node["output"]] = "vec"
                continue
            return False, f"layer {name!r} ({node['op']}) is not supported after pooling"
        if len(incoming) > 1:
            return False, f"layer {name!r} joins sequences with vectors"
        problem = op.stream_problem(node) if op is not None else None
        if problem:
            return False, problem
        if op is None or op.stream not in (CAUSAL, RECURRENT, REDUCER):
            return False, f"layer {name!r} ({node['op']}) cannot stream"
        if op.stream == CAUSAL:
            kinds[node["output"]] = "seq"
        elif op.stream == RECURRENT:
            kinds[node["output"]] = "seq" if config.get("return_sequences") else "vec"
            for state in node.get("states") or []:
                kinds[state] = "vec"
        else:  # a pooling over time
            kinds[node["output"]] = "vec"
    if not embedded:
        return False, "the model reads numeric sequences, not text"
    outputs = graph.get("outputs")
    if outputs and kinds.get(outputs[0]) != "vec":
        return False, "the model's output is a sequence"
    return True, "unidirectional: each new token costs one step per recurrent layer"


def make_stream(runtime: Runtime, *, maxlen: int | None, padding: str = "pre",
                truncating: str = "pre") -> IdStream | RecomputeStream:
    """The best stream for a model: incremental when it can stream, else recomputing."""
    streamable, _ = streaming_support(runtime.graph)
    cls = IdStream if streamable else RecomputeStream
    return cls(runtime, maxlen=maxlen, padding=padding, truncating=truncating)


class _Stream:
    """What both streams share: the padding rules and the cache of the last answer."""

    streaming = False

    def __init__(self, runtime: Runtime, *, maxlen: int | None, padding: str, truncating: str):
        if padding not in ("pre", "post") or truncating not in ("pre", "post"):
            raise ValueError("padding and truncating are 'pre' or 'post'")
        if runtime.sequence_length is not None and maxlen != runtime.sequence_length:
            raise ValueError(f"the model reads {runtime.sequence_length} steps, the card says "
                             f"maxlen {maxlen}")
        self.runtime = runtime
        self.maxlen = maxlen
        self.padding = padding
        self.truncating = truncating
        # ids per position: a number, or one per stream (tokens, n-grams)
        self.stream_shape: tuple[int, ...] = (runtime.stream_count,) \
            if runtime.stream_count > 1 else ()
        self.lock = threading.Lock()
        self.steps_computed = 0  # recurrent steps of the last update (for tests and benches)
        self._last_ids: tuple[int, ...] | None = None
        self._last_output: Array | None = None

    def window(self, ids: list[int] | Array) -> Array:
        """The ids the model sees: cut to ``maxlen`` on the truncating side."""
        ids = np.asarray(ids, dtype=np.int64).reshape((-1, *self.stream_shape))
        if self.maxlen is not None and len(ids) > self.maxlen:
            ids = ids[-self.maxlen:] if self.truncating == "pre" else ids[: self.maxlen]
        return ids

    def padded(self, ids: Array) -> Array:
        """One padded row (as ``pad_sequences`` gives) of already windowed ids."""
        if self.maxlen is None:
            return (ids if len(ids) else np.zeros((1, *self.stream_shape), np.int64))[None]
        row = np.zeros((1, self.maxlen, *self.stream_shape), np.int64)
        if len(ids):
            if self.padding == "post":
                row[0, : len(ids)] = ids
            else:
                row[0, self.maxlen - len(ids):] = ids
        return row

    def update(self, ids: list[int] | Array) -> Array:
        """The model's raw outputs (width,) for a text given as ids (any length): a list of
        ids, or (tokens, streams) ids for a model with several input streams."""
        with self.lock:
            window = self.window(ids)
            key = tuple(window.tolist())
            if key == self._last_ids and self._last_output is not None:
                self.steps_computed = 0
                return self._last_output.copy()
            output = self._update(window)
            self._last_ids, self._last_output = key, output
            return output.copy()

    def trace(self, ids: list[int] | Array) -> Array:
        """Raw outputs after each successive id: (len(ids), width); row k is the output for
        ``ids[: k + 1]`` exactly as if that prefix were the whole text."""
        with self.lock:
            ids = np.asarray(ids, dtype=np.int64).reshape((-1, *self.stream_shape))
            if len(ids) == 0:
                return np.zeros((0, self.runtime.output_width), np.float32)
            return self._trace(ids)

    def _recompute(self, prefixes: list[Array]) -> Array:
        rows = np.concatenate([self.padded(self.window(ids)) for ids in prefixes]) \
            if self.maxlen is not None else None
        if rows is None:  # no fixed length: each prefix alone
            return np.concatenate([self.runtime.run(self.padded(self.window(ids)))
                                   for ids in prefixes])
        return self.runtime.run(rows)

    def _update(self, window: Array) -> Array:
        raise NotImplementedError

    def _trace(self, ids: Array) -> Array:
        raise NotImplementedError


class RecomputeStream(_Stream):
    """For models that cannot stream: every update runs the whole (padded) text, except
    that forward recurrent passes over token-determined inputs (the forward half of a
    Bidirectional layer on the embeddings) resume from the first changed id."""

    def __init__(self, runtime: Runtime, **options: Any):
        super().__init__(runtime, **options)
        self._memo: dict = {}
        kernels.warm_up()  # compiled step loops, ready in a moment (see ``kernels``)

    def _update(self, window: Array) -> Array:
        self.steps_computed = len(window)
        row = self.runtime._check_inputs(self.padded(window), self.maxlen is not None)
        return self.runtime.evaluate(row, memo=self._memo)[0]

    def _trace(self, ids: Array) -> Array:
        self.steps_computed = len(ids) * (len(ids) + 1) // 2
        return self._recompute([ids[: k + 1] for k in range(len(ids))])


class IdStream(_Stream):
    """Incremental evaluation of a unidirectional model (see the module docstring).

    Not thread-safe by itself beyond its lock: one thread at a time (``update`` and ``trace``
    take the lock). Cheap to create: the per-position stacks are allocated on first use.
    """

    streaming = True

    def __init__(self, runtime: Runtime, *, maxlen: int | None, padding: str, truncating: str):
        super().__init__(runtime, maxlen=maxlen, padding=padding, truncating=truncating)
        self._split_graph()
        self._capacity = 0
        self._stacks: dict[str, list[Array]] = {}  # rnn node -> per state (capacity, units)
        self._aggregates: dict[str, Array] = {}  # reducer node -> (capacity, width)
        self._ids = np.zeros((0, *self.stream_shape), np.int64)
        self._valid = 0  # positions whose stacks are up to date
        self._base: int | None = None  # pad-record index the real tokens start from
        self._pad = None

    # ------------------------------------------------------------------ the graph's parts
    def _split_graph(self) -> None:
        runtime = self.runtime
        kinds = {tensor: "seq" for tensor in runtime.input_tensors}
        masked = {tensor: False for tensor in runtime.input_tensors}
        self.sequence_nodes: list[Node] = []
        self.reducers: list[Node] = []
        self.head: list[Node] = []
        self.state_nodes: list[Node] = []  # recurrent layers whose final states are outputs
        for node in runtime.nodes:
            incoming = kinds[node.inputs[0]]
            masked[node.output] = node.keras_mask
            for state in node.states:
                kinds[state] = "vec"
                masked[state] = False
            if node.states:
                self.state_nodes.append(node)
            if incoming == "vec":
                kinds[node.output] = "vec"
                self.head.append(node)
            elif node.op in REDUCERS or (node.op == "rnn"
                                          and not node.params["directions"][0].return_sequences):
                kinds[node.output] = "vec"
                self.reducers.append(node)
                if node.op == "rnn":
                    self.sequence_nodes.append(node)  # it steps like the others
            else:
                kinds[node.output] = "seq"
                self.sequence_nodes.append(node)
        self.rnn_nodes = [node for node in self.sequence_nodes if node.op == "rnn"]
        # a node's input carries a mask: its pad positions leave the states alone
        self.input_masked = {node.name: masked[node.inputs[0]] for node in runtime.nodes}
        self._wanted = {node.inputs[0] for node in self.reducers} | {
            node.output for node in self.reducers if node.op == "rnn"}
        self._tail_noop = self._tail_changes_nothing()
        self._base_cache: dict[int, dict[str, tuple[Array, ...]]] = {}

    def _tail_changes_nothing(self) -> bool:
        """True when trailing pads cannot change a result: every recurrent layer is masked
        (pads freeze its state) and every pooling reads a recurrent layer's outputs
        directly, whose pad value is the carried last output (already in a max; left out
        of a masked mean). The usual shape of post-padded models."""
        producers = {node.output: node for node in self.runtime.nodes}

        def source(tensor: str) -> Node | None:
            node = producers.get(tensor)
            while node is not None and node.op == "identity":
                node = producers.get(node.inputs[0])
            return node

        if not all(self.input_masked[node.name] for node in self.rnn_nodes):
            return False
        for node in self.reducers:
            recurrent = node if node.op == "rnn" else source(node.inputs[0])
            if recurrent is None or recurrent.op != "rnn":
                return False
            if recurrent.params["directions"][0].zero_output_for_mask:
                return False
            if node.op != "rnn" and not self.input_masked[node.name]:
                return False
        return True

    # ------------------------------------------------------------------ pad record facts
    def _pad_facts(self) -> dict[str, Any]:
        if self._pad is not None:
            return self._pad
        steps = self.maxlen or 0
        facts: dict[str, Any] = {"fixed": None, "pre": {}, "states": {}, "outputs": {}}
        if steps:
            record = self.runtime.pad_record(steps)
            settled = np.ones(steps, bool)
            for node in self.rnn_nodes:
                states = record.states[(node.name, 0)]
                facts["states"][node.name] = states
                facts["outputs"][node.name] = record.outputs[(node.name, 0)]
                for state in states:
                    settled &= np.all(state[1:] == state[:-1], axis=1)
            # the first k with states(k) == states(k+1) for every layer: a fixed point
            hits = np.flatnonzero(settled)
            facts["fixed"] = int(hits[0]) if hits.size else None
            for node in self.reducers:
                if node.op == "rnn":
                    continue
                values = record.values[node.inputs[0]]  # (steps, width)
                if node.op == "global_max_pooling1d":
                    running = np.maximum.accumulate(values, axis=0)
                else:
                    running = np.cumsum(values, axis=0, dtype=np.float32)
                facts["pre"][node.name] = running  # row k-1: over the first k pads
        self._pad = facts
        return facts

    def _base_index(self, pads_before: int) -> int:
        """The pad-record index whose states the text's first token starts from."""
        if pads_before == 0:
            return 0
        fixed = self._pad_facts()["fixed"]
        return min(pads_before, fixed) if fixed is not None else pads_before

    def _base_states(self, index: int) -> dict[str, tuple[Array, ...]]:
        cached = self._base_cache.get(index)
        if cached is not None:
            return cached
        facts = self._pad_facts()
        result = {}
        for node in self.rnn_nodes:
            cell = node.params["directions"][0].cell
            if index == 0 or not facts["states"]:
                result[node.name] = cell.initial_state(1)
            else:
                result[node.name] = tuple(state[index][None, :].copy()
                                          for state in facts["states"][node.name])
        self._base_cache[index] = result  # never written to: steps make new arrays
        return result

    # ------------------------------------------------------------------ stacks
    def _reserve(self, length: int) -> None:
        if length <= self._capacity:
            return
        capacity = max(length, 2 * self._capacity, 16)
        if self.maxlen is not None:
            capacity = max(min(capacity, self.maxlen), length)
        for node in self.rnn_nodes:
            cell = node.params["directions"][0].cell
            old = self._stacks.get(node.name)
            new = [np.empty((capacity, cell.units), np.float32)
                   for _ in range(cell.state_count)]
            if old is not None:
                for target, source in zip(new, old):
                    target[: self._valid] = source[: self._valid]
            self._stacks[node.name] = new
        for node in self.reducers:
            if node.op == "rnn":
                continue
            width = self._widths().get(node.inputs[0])
            old = self._aggregates.get(node.name)
            new_aggregate = np.empty((capacity, width), np.float32)
            if old is not None:
                new_aggregate[: self._valid] = old[: self._valid]
            self._aggregates[node.name] = new_aggregate
        self._capacity = capacity

    def _widths(self) -> dict[str, int]:
        cached = getattr(self, "_width_cache", None)
        if cached is None:
            values = self._evaluate(self.runtime.pad_ids(1, 1), self._base_states_like(1))[0]
            cached = {name: value.shape[-1] for name, value in values.items()}
            self._width_cache = cached
        return cached

    def _base_states_like(self, batch: int) -> dict[str, tuple[Array, ...]]:
        return {node.name: node.params["directions"][0].cell.initial_state(batch)
                for node in self.rnn_nodes}

    def _states_at(self, position: int, base: dict[str, tuple[Array, ...]]
                   ) -> dict[str, tuple[Array, ...]]:
        """States after real position ``position`` (-1: the base states)."""
        if position < 0:
            return base
        return {name: tuple(stack[position][None, :].copy() for stack in stacks)
                for name, stacks in self._stacks.items()}

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, ids: Array, states: dict[str, tuple[Array, ...]],
                  record_from: int | None = None
                  ) -> tuple[dict[str, Array], dict[str, tuple[Array, ...]], int]:
        """Run the sequence part over ids (batch, length) from the given states.

        Returns the values of the tensors that reducers read, as (batch, length, width),
        the states after the last position, and the number of recurrent steps computed.
        With ``record_from`` (batch 1), each position's states go to the stacks from there.
        """
        values: dict[str, Any] = {tensor: ids for tensor in self.runtime.input_tensors}
        is_pad = (ids[..., 0] if ids.ndim == 3 else ids) == 0
        states = dict(states)
        steps = 0
        for node in self.sequence_nodes:
            source = values[node.inputs[0]]
            if node.op in CAUSAL_OPS:  # per position: the runtime's own evaluation
                inputs = [_as_value(values[name]) for name in node.inputs]
                values[node.output] = OPS[node.op].evaluate(self.runtime, node, inputs,
                                                            _StepContext(ids), None)
            else:  # rnn
                direction = node.params["directions"][0]
                if isinstance(source, Value) and direction.projection is not None:
                    projected = direction.projection.take(ids)
                else:
                    projected = direction.cell.project(_dense(source))
                masked = self.input_masked[node.name]
                outputs, states[node.name], count = _run_cell(
                    direction, projected, states[node.name], is_pad if masked else None,
                    self._stacks.get(node.name) if record_from is not None else None,
                    record_from)
                steps += count
                values[node.output] = outputs
        return ({name: _dense(values[name]) for name in self._wanted if name in values},
                states, steps)

    # ------------------------------------------------------------------ updates
    def _layout(self, length: int) -> tuple[int, int]:
        """Pads before and after a text of ``length`` windowed ids."""
        if self.maxlen is None:
            return 0, 0
        if length == 0:
            return self.maxlen, 0  # an all-pad row is the same on either side
        pads = self.maxlen - length
        return (pads, 0) if self.padding == "pre" else (0, pads)

    def _update(self, window: Array) -> Array:
        if self.maxlen is None and len(window) == 0:  # nothing to run over: one pad, as
            self.steps_computed = 1                   # padded() gives the batch path too
            return self.runtime.run(self.padded(window))[0]
        before, after = self._layout(len(window))
        base_index = self._base_index(before)
        valid = self._valid if base_index == self._base else 0
        self._base = base_index
        common = min(len(window), len(self._ids), valid)
        differs = np.flatnonzero(rows_differ(window[:common], self._ids[:common]))
        start = int(differs[0]) if differs.size else common
        self.steps_computed = 0
        base = self._base_states(base_index)
        self._reserve(len(window))
        if len(window) > start:
            self._valid = start
            values, _, steps = self._evaluate(window[None, start:], self._states_at(start - 1,
                                                                                     base),
                                              record_from=start)
            self.steps_computed += steps
            self._accumulate(values, start)
        self._ids = window.copy()
        self._valid = len(window)
        return self._finish(np.array([len(window)]), before, after, base)[0]

    def _accumulate(self, values: dict[str, Array], start: int) -> None:
        """Running max / sum of each pooling layer's input over the new positions."""
        for node in self.reducers:
            if node.op == "rnn":
                continue
            new = values[node.inputs[0]][0]
            stack = self._aggregates[node.name]
            if node.op == "global_max_pooling1d":
                running = np.maximum.accumulate(new, axis=0)
                if start:
                    np.maximum(running, stack[start - 1], out=running)
            else:
                running = np.cumsum(new, axis=0, dtype=np.float32)
                if start:
                    running += stack[start - 1]
            stack[start: start + len(new)] = running

    def _finish(self, lengths: Array, before: int | Array, after: int | Array,
                base: dict[str, tuple[Array, ...]]) -> Array:
        """Outputs for texts made of the first ``lengths[i]`` real ids (all already in the
        stacks), each with its own pads before/after. Vectorized over rows (a trace asks
        for every prefix at once)."""
        rows = len(lengths)
        before = np.broadcast_to(np.asarray(before), (rows,))
        after = np.broadcast_to(np.asarray(after), (rows,))
        last = np.maximum(lengths - 1, 0)
        has_text = lengths > 0
        all_text = bool(has_text.all())
        facts = self._pad_facts()
        tail = None
        if not self._tail_noop and (after > 0).any():
            tail = self._tail(self._end_states(lengths, base), after)
        with_tail = after > 0
        reduced: dict[str, Array] = {}
        for node in self.reducers:
            if node.op == "rnn":
                output = self._stacks[node.name][0][last] if self._capacity else \
                    np.zeros((rows, node.params["directions"][0].cell.units), np.float32)
                if not all_text:
                    output[~has_text] = facts["outputs"][node.name][-1]
                if tail is not None:
                    output[with_tail] = tail["last"][node.output][with_tail]
                reduced[node.output] = output
                continue
            is_max = node.op == "global_max_pooling1d"
            combine = np.maximum if is_max else np.add
            if self._capacity:
                total = self._aggregates[node.name][last]
            else:
                total = np.zeros((rows, self._widths()[node.inputs[0]]), np.float32)
            if not all_text:
                total[~has_text] = -np.inf if is_max else 0.0
            # a masked mean leaves the pads out (Keras zeroes them); a max takes them in
            with_pads = is_max or not self.input_masked[node.name]
            if with_pads and (before > 0).any():
                pre = facts["pre"][node.name][np.maximum(before - 1, 0)]
                total = np.where((before > 0)[:, None], combine(total, pre), total)
            if with_pads and tail is not None:
                total = np.where(with_tail[:, None], combine(total, tail[node.name]), total)
            if not is_max:
                count = lengths + (before + after if with_pads else 0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    total = (total / count[:, None].astype(np.float32)).astype(np.float32)
            reduced[node.output] = total
        if self.state_nodes:
            reduced.update(self._final_states(lengths, base, tail, with_tail, has_text))
        return self._run_head(reduced)

    def _final_states(self, lengths: Array, base: dict[str, tuple[Array, ...]],
                      tail: dict[str, Any] | None, with_tail: Array, has_text: Array
                      ) -> dict[str, Array]:
        """The final states (``return_state``) of each row: after its last real id, after
        its trailing pads when they run, or the pad record's for a text without ids."""
        rows = len(lengths)
        last = np.maximum(lengths - 1, 0)
        facts = self._pad_facts()
        result = {}
        for node in self.state_nodes:
            stacks = self._stacks.get(node.name)
            for index, tensor in enumerate(node.states):
                if stacks is not None and self._capacity:
                    state = stacks[index][last]
                else:
                    state = np.repeat(base[node.name][index], rows, axis=0)
                if not has_text.all():
                    empty = facts["states"][node.name][index][-1] if facts["states"] else \
                        base[node.name][index][0]
                    state[~has_text] = empty
                if tail is not None:
                    state[with_tail] = tail["states"][node.name][index][with_tail]
                result[tensor] = state
        return result

    def _end_states(self, lengths: Array, base: dict[str, tuple[Array, ...]]
                    ) -> dict[str, tuple[Array, ...]]:
        """Each row's states after its last real id (the base states for an empty text)."""
        rows = len(lengths)
        last = np.maximum(lengths - 1, 0)
        has_text = lengths > 0
        states = {}
        for node in self.rnn_nodes:
            stacks = self._stacks.get(node.name)
            per_state = []
            for index, initial in enumerate(base[node.name]):
                if stacks is not None and self._capacity:
                    rows_states = stacks[index][last]
                    rows_states[~has_text] = initial[0]
                else:
                    rows_states = np.repeat(initial, rows, axis=0)
                per_state.append(rows_states)
            states[node.name] = tuple(per_state)
        return states

    def _tail(self, states: dict[str, tuple[Array, ...]], after: Array) -> dict[str, Any]:
        """Each row's contribution of its ``after`` trailing pads: per reducer a max or a
        sum, and per final recurrent layer its last output."""
        rows = len(after)
        result: dict[str, Any] = {"last": {}, "states": {
            name: tuple(state.copy() for state in value) for name, value in states.items()}}
        for node in self.reducers:
            if node.op != "rnn":
                width = self._widths()[node.inputs[0]]
                is_max = node.op == "global_max_pooling1d"
                result[node.name] = np.full((rows, width), -np.inf if is_max else 0.0,
                                            np.float32)
        for node in self.reducers:
            if node.op == "rnn":
                result["last"][node.output] = np.zeros((rows, node.params["directions"][0]
                                                        .cell.units), np.float32)
        todo = np.flatnonzero(after > 0)
        if todo.size == 0:
            return result
        current = {name: tuple(state[todo] for state in value)
                   for name, value in states.items()}
        remaining = after[todo].astype(np.int64)
        active = np.arange(len(todo))
        while active.size:
            pads = self.runtime.pad_ids(active.size, 1)
            before_step = {name: tuple(state[active] for state in value)
                           for name, value in current.items()}
            values, after_step, steps = self._evaluate(pads, before_step)
            self.steps_computed += steps
            rows_now = todo[active]
            # a step that changed no state repeats forever: count the rest in closed form
            settled = np.ones(active.size, bool)
            for name, new_states in after_step.items():
                for old, new in zip(before_step[name], new_states):
                    settled &= np.all(old == new, axis=1)
            repeats = np.where(settled, remaining[active], 1).astype(np.float32)
            for node in self.reducers:
                if node.op == "rnn":
                    result["last"][node.output][rows_now] = values[node.output][:, 0]
                    continue
                value = values[node.inputs[0]][:, 0]
                if node.op == "global_max_pooling1d":
                    result[node.name][rows_now] = np.maximum(result[node.name][rows_now],
                                                             value)
                else:
                    result[node.name][rows_now] += value * repeats[:, None]
            for name, new_states in after_step.items():
                for state, new, final in zip(current[name], new_states,
                                             result["states"][name]):
                    state[active] = new
                    final[rows_now] = new
            remaining[active] -= 1
            keep = (~settled) & (remaining[active] > 0)
            active = active[keep]
        return result

    def _run_head(self, reduced: dict[str, Array]) -> Array:
        """The layers after pooling, on plain (rows, width) arrays."""
        values = dict(reduced)
        for node in self.head:  # causal ops only (streaming_support checked it)
            inputs = [Value(data=values[name]) for name in node.inputs]
            values[node.output] = OPS[node.op].evaluate(self.runtime, node, inputs, None,
                                                        None).materialize()
        return values[self.runtime.output_tensor]

    # ------------------------------------------------------------------ the trace
    def _trace(self, ids: Array) -> Array:
        """One step per token: the stacks hold every prefix's states already."""
        window = self.window(ids)
        cut = len(ids) - len(window)
        results = np.empty((len(ids), self.runtime.output_width), np.float32)
        if cut and self.truncating == "pre":  # prefixes longer than maxlen lose their start:
            # each of those is a different window; recompute them the ordinary way
            long_prefixes = [ids[: k + 1] for k in range(self.maxlen, len(ids))]
            results[self.maxlen:] = self._recompute(long_prefixes)
            ids = ids[: self.maxlen]
        elif cut:  # truncating "post": prefixes past maxlen all equal the first maxlen ids
            ids = ids[: self.maxlen]
        count = len(ids)
        lengths = np.arange(1, count + 1)
        layouts = [self._layout(k) for k in lengths]
        before = np.array([layout[0] for layout in layouts])
        after = np.array([layout[1] for layout in layouts])
        bases = {self._base_index(int(b)) for b in before}
        if len(bases) == 1:  # every prefix starts from the same state: one pass
            self._update(ids)  # counts its steps; _finish adds those of the pad tails
            base = self._base_states(bases.pop())
            results[:count] = self._finish(lengths, before, after, base)
        else:  # the pad run never settles: each prefix starts elsewhere
            results[:count] = self._recompute([ids[: k] for k in lengths])
        if cut and self.truncating == "post":
            results[count:] = results[count - 1]
        # leave the stream consistent with the whole text
        self._last_ids = None
        return results


def _dense(value: Any) -> Array:
    return value.materialize() if isinstance(value, Value) else value


def _as_value(value: Any) -> Value:
    return value if isinstance(value, Value) else Value(data=value)


class _StepContext:
    """What a causal op may ask of the evaluation: every stream's ids."""

    memo = None

    def __init__(self, ids: Array):
        self.ids = ids


def _run_cell(direction, projected: Array, states: tuple[Array, ...], is_pad: Array | None,
              stacks: list[Array] | None, record_from: int | None
              ) -> tuple[Array, tuple[Array, ...], int]:
    """Steps of one cell over (batch, length) projected inputs; masked pads keep the state."""
    cell = direction.cell
    batch, length = projected.shape[:2]
    outputs = np.empty((batch, length, cell.units), np.float32)
    if is_pad is None or not is_pad.any():  # real tokens only: no mask to consult
        step = cell.step
        for t in range(length):
            states = step(projected[:, t], states)
            outputs[:, t] = states[0]
            if stacks is not None:
                for stack, state in zip(stacks, states):
                    stack[record_from + t] = state[0]
        return outputs, states, length
    steps = 0
    for t in range(length):
        pad_now = is_pad[:, t] if is_pad is not None else None
        if pad_now is not None and pad_now.all():
            out = np.zeros_like(states[0]) if direction.zero_output_for_mask else states[0]
            outputs[:, t] = out
        else:
            new_states = cell.step(projected[:, t], states)
            steps += 1
            if pad_now is not None and pad_now.any():
                new_states = tuple(np.where(pad_now[:, None], old, new)
                                   for old, new in zip(states, new_states))
                out = new_states[0].copy()
                if direction.zero_output_for_mask:
                    out[pad_now] = 0.0
            else:
                out = new_states[0]
            states = new_states
            outputs[:, t] = out
        if stacks is not None:
            for stack, state in zip(stacks, states):
                stack[record_from + t] = state[0]
    return outputs, states, steps
