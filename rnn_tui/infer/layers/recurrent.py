"""Recurrent layers: SimpleRNN, LSTM, GRU (op ``rnn``) and Bidirectional, exactly as Keras'
``backend.rnn`` computes them (masks, go_backwards, return_state, padding).

What makes them fast (see also ``rows``): token-determined inputs are projected once per
vocabulary id and gathered; rows are sorted by length so the rows still computing form a
prefix of the batch; left padding without a mask shares one "pad record" per length; a single
row (``predict "..."``, a live session) takes ``_run_one_row``, which also reuses the previous
call's states up to the first changed input. None of this changes a result.

Streaming steps a unidirectional ``rnn`` one token at a time (``streaming.IdStream``); one
that reads backwards, and every Bidirectional, is recomputed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.infer import ops
from rnn_tui.infer.layers.base import (
    RECOMPUTE,
    RECURRENT,
    RuntimeOp,
    UnsupportedModelError,
    config_activation,
    numpy_weights,
)
from rnn_tui.infer.rows import RowSource, projected_rows
from rnn_tui.infer.values import (
    POINTWISE,
    PREFIX,
    Array,
    Context,
    Direction,
    Node,
    Value,
    rows_differ,
)

KERAS_LAYERS = ("SimpleRNN", "LSTM", "GRU", "Bidirectional")


def describe(keras: Any, layer: Any, config: dict[str, Any], input_ranks: list[int | None]):
    layers = keras.layers
    if isinstance(layer, layers.Bidirectional):
        merge_mode = layer.merge_mode
        if merge_mode not in ("concat", "sum", "ave", "mul"):
            raise UnsupportedModelError(
                f"layer {layer.name!r}: Bidirectional merge_mode {merge_mode!r} is not "
                "supported (concat, sum, ave, mul)")
        if getattr(layer, "return_state", False):
            raise UnsupportedModelError(f"layer {layer.name!r}: a Bidirectional layer's "
                                        "return_state is not supported")
        forward, forward_weights = _cell_config(keras, layer.forward_layer)
        backward, backward_weights = _cell_config(keras, layer.backward_layer)
        if forward["go_backwards"] == backward["go_backwards"]:
            raise UnsupportedModelError(f"layer {layer.name!r}: both halves read the same way")
        named = {f"forward/{k}": v for k, v in forward_weights.items()}
        named.update({f"backward/{k}": v for k, v in backward_weights.items()})
        return ({"op": "bidirectional", "config": {"merge_mode": merge_mode,
                                                    "forward": forward,
                                                    "backward": backward}}, named)
    if isinstance(layer, layers.RNN):
        rnn_config, named = _cell_config(keras, layer)
        return {"op": "rnn", "config": rnn_config}, named
    return None


def _cell_config(keras: Any, layer: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    layers = keras.layers
    cell = layer.cell
    if isinstance(cell, layers.LSTMCell):
        kind = "lstm"
    elif isinstance(cell, layers.GRUCell):
        kind = "gru"
    elif isinstance(cell, layers.SimpleRNNCell):
        kind = "simplernn"
    else:
        raise UnsupportedModelError(
            f"layer {layer.name!r}: the recurrent cell {type(cell).__name__} is not supported "
            "(SimpleRNN, LSTM, GRU)")
    if layer.stateful:
        raise UnsupportedModelError(f"layer {layer.name!r} is stateful; export a stateless copy")
    cell_config = cell.get_config()
    config = {
        "cell": kind,
        "units": int(cell.units),
        "activation": config_activation(cell_config, "activation", layer),
        "recurrent_activation": (config_activation(cell_config, "recurrent_activation", layer)
                                 if kind != "simplernn" else "sigmoid"),
        "return_sequences": bool(layer.return_sequences),
        "return_state": bool(layer.return_state),
        "go_backwards": bool(layer.go_backwards),
        "zero_output_for_mask": bool(layer.zero_output_for_mask),
    }
    if kind == "gru":
        config["reset_after"] = bool(cell.reset_after)
    named = {"kernel": numpy_weights(cell.kernel),
             "recurrent_kernel": numpy_weights(cell.recurrent_kernel)}
    if cell.use_bias:
        named["bias"] = numpy_weights(cell.bias)
    return config, named


def prepare(runtime, node: Node, named: dict[str, Array], lookup, widths) -> None:
    config, op = node.config, node.op
    source = lookup.get(node.inputs[0])
    directions = []
    if op == "rnn":
        directions.append(_direction(config, named, "", source, reverse=None))
    else:
        directions.append(_direction(config["forward"], named, "forward/", source,
                                     reverse=None, bidirectional=True))
        directions.append(_direction(config["backward"], named, "backward/", source,
                                     reverse=None, bidirectional=True))
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


def _direction(config: dict[str, Any], named: dict[str, Array], prefix: str,
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


def evaluate(runtime, node: Node, inputs: list[Value], context: Context,
             record: dict | None) -> Value:
    first = inputs[0]
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
            pad = runtime.pad_record(context.steps)
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
    reverse = direction.reverse
    ids = value.ids if value.is_lookup else None
    batch, steps = (ids.shape[:2] if ids is not None else value.data.shape[:2])
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
    return _run_batch(direction, value, active, mask, shared, trajectory, record)


def _run_batch(direction: Direction, value: Value, active: Array, mask: Array | None,
               shared: Array | None, trajectory: tuple[list[Array], Array] | None,
               record: bool
               ) -> tuple[Array, list[Array] | None, Array | None, tuple[Array, ...]]:
    """``run_direction`` over several rows (or one, recorded): ``active[b, t]``, whether
    row b computes step t, in processing order; ``mask`` in processing order too."""
    cell = direction.cell
    batch, steps = active.shape
    units = cell.units
    counts = active.sum(axis=0)
    prefix = np.all(active[1:] <= active[:-1], axis=0) if batch > 1 else np.ones(steps, bool)
    joined_counts = None
    shared_sorted = False
    if shared is not None:
        joined_counts = np.searchsorted(np.sort(shared), np.arange(steps), side="right")
        shared_sorted = bool(np.all(shared[1:] >= shared[:-1]))
    track_masked = mask is not None and (direction.zero_output_for_mask or shared is not None)

    project = _step_projector(direction, value)
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
            new_states = cell.step(project(t, rows), tuple(state[rows] for state in states))
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
    if outputs is None:
        outputs = last if last is not None else np.zeros((batch, units), np.float32)
    return outputs, recorded_states, recorded_outputs, tuple(states)


def _step_projector(direction: Direction, value: Value):
    """``project(t, rows)``: the input projection of step ``t`` (processing order) for those
    rows: gathered per id (lookup form), or from blocks of 32 dense steps projected at once."""
    if value.is_lookup:
        return direction.projection.step_gather(value.ids, direction.reverse)
    cell = direction.cell
    dense = value.data[:, ::-1] if direction.reverse else value.data
    block = 32
    cache = {"start": -block, "projected": None}

    def project(t: int, rows: Any) -> Array:
        if not cache["start"] <= t < cache["start"] + block:
            cache["start"] = t
            cache["projected"] = cell.project(dense[:, t: t + block])
        return cache["projected"][rows, t - cache["start"]]

    return project


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


def _carry(history: list[Array], begin: int, end: int) -> None:
    """Steps ``begin..end-1`` leave the state as it was before step ``begin``."""
    if end > begin:
        for slot in history:
            slot[begin + 1: end + 1] = slot[begin]


def _rnn_mask(config, incoming, node) -> bool:
    return incoming[0] and config.get("return_sequences", False)


def _bidirectional_mask(config, incoming, node) -> bool:
    return incoming[0] and config["forward"].get("return_sequences", False)


def _backwards(node: dict[str, Any]) -> str | None:
    if node.get("config", {}).get("go_backwards"):
        return f"layer {node['name']!r} reads the text backwards: every update recomputes it"
    return None


def _both_ways(node: dict[str, Any]) -> str:
    return (f"layer {node['name']!r} (Bidirectional) also reads the text backwards: every "
            "update recomputes it")


OPS = (
    RuntimeOp("rnn", prepare, evaluate, required=("kernel", "recurrent_kernel"),
              optional=("bias",), mask=_rnn_mask, stream=RECURRENT, stream_problem=_backwards),
    RuntimeOp("bidirectional", prepare, evaluate,
              required=("forward/kernel", "forward/recurrent_kernel", "backward/kernel",
                        "backward/recurrent_kernel"),
              optional=("forward/bias", "backward/bias"), mask=_bidirectional_mask,
              stream=RECOMPUTE, stream_problem=_both_ways),
)
