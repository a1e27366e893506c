"""NumPy kernels of the runtime: activations, recurrent cells, Conv1D and pooling.

Everything computes in float32 and follows the TensorFlow backend of Keras 3 formula for
formula (the parity tests hold us to 1e-5 in probability; in practice the difference is a few
1e-7), with two liberties that change nothing but speed:

- a sigmoid gate is computed as ``0.5 * tanh(x / 2) + 0.5`` (the same function), with the
  ``1/2`` folded into the gate's weight columns at load time. Scaling by a power of two is
  exact in floating point, so one ``tanh`` call evaluates every gate of an LSTM step;
- an input projection ``x @ kernel + bias`` is linear per row, so for token inputs it is
  computed once per vocabulary id (see ``runtime.RowSource``) instead of once per position.

>>> cell = RecurrentCell.from_weights("simplernn", units=2, activation="tanh",
...     kernel=np.eye(2, dtype=np.float32), recurrent_kernel=np.zeros((2, 2), np.float32),
...     bias=np.zeros(2, np.float32))
>>> h, = cell.step(cell.project(np.array([[0.5, -0.5]], np.float32)), cell.initial_state(1))
>>> np.round(h.astype(float), 4).tolist()
[[0.4621, -0.4621]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray

# ---------------------------------------------------------------------------------- activations


def _sigmoid(x: Array) -> Array:
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-x))).astype(np.float32, copy=False)


def _softmax(x: Array) -> Array:
    shifted = x - np.max(x, axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=-1, keepdims=True)


def _hard_sigmoid(x: Array) -> Array:
    # Keras 3: relu6(x + 3) / 6 (Keras 2 used 0.2 * x + 0.5).
    return np.clip(x + np.float32(3.0), 0.0, 6.0) / np.float32(6.0)


def _elu(x: Array) -> Array:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(np.float32, copy=False)


def _selu(x: Array) -> Array:
    alpha, scale = np.float32(1.6732632423543772), np.float32(1.0507009873554805)
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, np.float32(0.0)),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "softmax": _softmax,
    "softplus": lambda x: np.logaddexp(np.float32(0.0), x),
    "softsign": lambda x: x / (np.float32(1.0) + np.abs(x)),
    "elu": _elu,
    "selu": _selu,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "exponential": np.exp,
    "leaky_relu": lambda x: np.where(x > 0, x, np.float32(0.2) * x).astype(np.float32),
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "hard_swish": lambda x: x * _hard_sigmoid(x),
}


def activation(name: str) -> Callable[[Array], Array]:
    """The NumPy function of a Keras activation name ("relu", "softmax" ...)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"activation {name!r} is not supported by the runtime "
                         f"(supported: {', '.join(sorted(ACTIVATIONS))})") from None


# ---------------------------------------------------------------------------------- cells

GATES = {"simplernn": 1, "lstm": 4, "gru": 3}


@dataclass
class RecurrentCell:
    """One SimpleRNN/LSTM/GRU cell with its weights, ready for fast steps.

    ``project(x)`` is the input half of a step (``x @ kernel + bias``) and depends on the
    input only, so callers may compute it for many steps (or vocabulary rows) at once;
    ``step(projected, states)`` is the recurrent half. States are tuples (``(h,)`` or
    ``(h, c)`` for an LSTM) of (batch, units) arrays; the output of every cell is ``h``.

    Internally the gate columns may be reordered and scaled (see the module docstring), so
    ``project`` output is only meaningful to ``step`` of the same cell.
    """

    kind: str
    units: int
    kernel: Array  # (input_dim, gates * units), columns in internal order
    recurrent_kernel: Array  # (units, gates * units)
    input_bias: Array | None  # (gates * units,)
    recurrent_bias: Array | None  # GRU reset_after only: (3 * units,)
    act: Callable[[Array], Array]
    recurrent_act: Callable[[Array], Array]
    fused: bool  # tanh activation + sigmoid recurrent activation: the tanh trick applies
    reset_after: bool = True

    @classmethod
    def from_weights(
        cls,
        kind: str,
        *,
        units: int,
        kernel: Array,
        recurrent_kernel: Array,
        bias: Array | None,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        reset_after: bool = True,
    ) -> RecurrentCell:
        """Build a cell from Keras' weights (Keras' gate order: LSTM i f c o, GRU z r h)."""
        if kind not in GATES:
            raise ValueError(f"unknown recurrent cell {kind!r}")
        kernel = np.asarray(kernel, np.float32)
        recurrent_kernel = np.asarray(recurrent_kernel, np.float32)
        bias = None if bias is None else np.asarray(bias, np.float32)
        gates = GATES[kind]
        if kernel.shape[1] != gates * units or recurrent_kernel.shape != (units, gates * units):
            raise ValueError(f"{kind} weights do not fit {units} units: kernel "
                             f"{kernel.shape}, recurrent kernel {recurrent_kernel.shape}")
        recurrent_bias = None
        input_bias = bias
        if kind == "gru" and reset_after and bias is not None:
            if bias.shape != (2, 3 * units):
                raise ValueError(f"a GRU (reset_after) bias has shape (2, {3 * units}), "
                                 f"not {bias.shape}")
            input_bias, recurrent_bias = bias[0], bias[1]
        fused = activation == "tanh" and recurrent_activation == "sigmoid" and kind != "simplernn"
        if fused:
            order, scale = _fused_layout(kind, units)
            kernel = kernel[:, order] * scale
            recurrent_kernel = recurrent_kernel[:, order] * scale
            if input_bias is not None:
                input_bias = input_bias[order] * scale
            if recurrent_bias is not None:
                recurrent_bias = recurrent_bias[order] * scale
        return cls(
            kind=kind, units=units,
            kernel=np.ascontiguousarray(kernel, np.float32),
            recurrent_kernel=np.ascontiguousarray(recurrent_kernel, np.float32),
            input_bias=None if input_bias is None else np.ascontiguousarray(input_bias,
                                                                             np.float32),
            recurrent_bias=None if recurrent_bias is None else np.ascontiguousarray(
                recurrent_bias, np.float32),
            act=ACTIVATIONS["tanh"] if fused else _lookup(activation),
            recurrent_act=ACTIVATIONS["sigmoid"] if fused else _lookup(recurrent_activation),
            fused=fused,
            reset_after=reset_after,
        )

    # -------------------------------------------------------------- the two halves of a step
    @property
    def state_count(self) -> int:
        return 2 if self.kind == "lstm" else 1

    @property
    def projection_width(self) -> int:
        return self.kernel.shape[1]

    def initial_state(self, batch: int) -> tuple[Array, ...]:
        return tuple(np.zeros((batch, self.units), np.float32) for _ in range(self.state_count))

    def project(self, x: Array) -> Array:
        """``x @ kernel + bias`` for inputs of shape (..., input_dim)."""
        projected = x @ self.kernel
        if self.input_bias is not None:
            projected += self.input_bias
        return projected

    def project_part(self, x: Array, rows: slice, *, with_bias: bool) -> Array:
        """The share of inputs ``x`` (features ``rows`` of the full input) in ``project``:
        a concatenated input's projection is the sum of its parts' (one carries the bias)."""
        projected = x @ self.kernel[rows]
        if with_bias and self.input_bias is not None:
            projected += self.input_bias
        return projected

    def step(self, projected: Array, states: tuple[Array, ...]) -> tuple[Array, ...]:
        """One step for a batch: ``projected`` (batch, gates*units) -> the new states."""
        if self.kind == "lstm":
            return self._lstm(projected, states[0], states[1])
        if self.kind == "gru":
            return (self._gru(projected, states[0]),)
        return (self.act(projected + states[0] @ self.recurrent_kernel),)

    def run_row(self, projected: Array, history: list[Array], begin: int, end: int,
                repeated: Array, loops: Any = None) -> int:
        """Steps ``begin..end-1`` of one row, in place: ``history[k][t]`` is state ``k``
        before step ``t`` (shape (1, units)), and step ``t`` writes ``history[k][t + 1]``.

        The arithmetic is ``step``'s, operation for operation (so the results are the same
        bit for bit), but every operation writes into a buffer made once per call: for one
        row NumPy's per-call overhead, not the arithmetic, is most of a step's time.

        Returns ``end``, or the position after step ``t`` where the state stopped changing
        under a repeated input (``repeated[t]``: the same input as step ``t - 1``), a fixed
        point every following step of the same input keeps (checked every 8th step).

        ``loops``: the compiled loops (``kernels.ready()``) to run a fused LSTM or GRU with,
        instead of NumPy.
        """
        if loops is not None and self.fused:  # compiled (see ``kernels``)
            flat = [slot.reshape(len(slot), self.units) for slot in history]
            if self.kind == "lstm":
                return int(loops.lstm_rows(projected, self.recurrent_kernel, flat[0], flat[1],
                                           begin, end, repeated))
            return int(loops.gru_rows(projected, self.recurrent_kernel, self._gru_bias(),
                                      flat[0], begin, end, repeated, self.reset_after))
        if not self.fused and self.kind != "simplernn":
            for t in range(begin, end):
                new = self.step(projected[t: t + 1], tuple(slot[t] for slot in history))
                for slot, state in zip(history, new):
                    slot[t + 1] = state
                if repeated[t] and t % 8 == 0 and _settled(history, t):
                    return t + 1
            return end
        runner = {"lstm": self._lstm_rows, "gru": self._gru_rows,
                  "simplernn": self._simple_rows}[self.kind]
        return runner(projected, history, begin, end, repeated)

    def _gru_bias(self) -> Array:
        if self.recurrent_bias is None:
            return np.zeros(3 * self.units, np.float32)
        return self.recurrent_bias

    def _lstm_rows(self, projected: Array, history: list[Array], begin: int, end: int,
                   repeated: Array) -> int:
        u = self.units
        hs, cs = history
        z = np.empty((1, 4 * u), np.float32)  # internal order i f o c; i f o scaled by 1/2
        gates, i, f, o, candidate = z[:, : 3 * u], z[:, :u], z[:, u: 2 * u], \
            z[:, 2 * u: 3 * u], z[:, 3 * u:]
        product = np.empty((1, u), np.float32)
        kernel, half = self.recurrent_kernel, np.float32(0.5)
        matmul, add, multiply, tanh = np.matmul, np.add, np.multiply, np.tanh
        for t in range(begin, end):
            c = cs[t + 1]
            h = hs[t + 1]
            matmul(hs[t], kernel, out=z)
            add(z, projected[t: t + 1], out=z)
            tanh(z, out=z)
            multiply(gates, half, out=gates)
            add(gates, half, out=gates)
            multiply(cs[t], f, out=c)
            multiply(i, candidate, out=product)
            add(c, product, out=c)
            tanh(c, out=h)
            multiply(h, o, out=h)
            if repeated[t] and t % 8 == 0 and _settled(history, t):
                return t + 1
        return end

    def _gru_rows(self, projected: Array, history: list[Array], begin: int, end: int,
                  repeated: Array) -> int:
        u = self.units
        (hs,) = history
        kernel, bias = self.recurrent_kernel, self.recurrent_bias
        half = np.float32(0.5)
        matmul, add, multiply, subtract, tanh = (np.matmul, np.add, np.multiply, np.subtract,
                                                 np.tanh)
        inner = np.empty((1, 3 * u), np.float32)
        gates = np.empty((1, 2 * u), np.float32)
        z, r = gates[:, :u], gates[:, u:]
        candidate = np.empty((1, u), np.float32)
        recurrent_h = inner[:, 2 * u:]
        for t in range(begin, end):
            h, new_h = hs[t], hs[t + 1]
            step_input = projected[t: t + 1]
            if self.reset_after:
                matmul(h, kernel, out=inner)
                if bias is not None:
                    add(inner, bias, out=inner)
                add(step_input[:, : 2 * u], inner[:, : 2 * u], out=gates)
            else:
                add(step_input[:, : 2 * u], h @ kernel[:, : 2 * u], out=gates)
            tanh(gates, out=gates)
            multiply(gates, half, out=gates)
            add(gates, half, out=gates)
            if self.reset_after:
                multiply(r, recurrent_h, out=candidate)
            else:
                matmul(r * h, kernel[:, 2 * u:], out=candidate)
            add(candidate, step_input[:, 2 * u:], out=candidate)
            tanh(candidate, out=candidate)
            subtract(h, candidate, out=new_h)
            multiply(new_h, z, out=new_h)
            add(new_h, candidate, out=new_h)
            if repeated[t] and t % 8 == 0 and _settled(history, t):
                return t + 1
        return end

    def _simple_rows(self, projected: Array, history: list[Array], begin: int, end: int,
                     repeated: Array) -> int:
        (hs,) = history
        kernel, act = self.recurrent_kernel, self.act
        z = np.empty((1, self.units), np.float32)
        for t in range(begin, end):
            np.matmul(hs[t], kernel, out=z)
            hs[t + 1] = act(np.add(projected[t: t + 1], z, out=z))
            if repeated[t] and t % 8 == 0 and _settled(history, t):
                return t + 1
        return end

    def _lstm(self, projected: Array, h: Array, c: Array) -> tuple[Array, Array]:
        u = self.units
        z = h @ self.recurrent_kernel
        z += projected
        if self.fused:  # internal order i f o c; i f o pre-scaled by 1/2
            np.tanh(z, out=z)
            gates = z[:, : 3 * u]
            gates *= 0.5
            gates += 0.5
            new_c = c * z[:, u: 2 * u]
            new_c += z[:, :u] * z[:, 3 * u:]
            new_h = np.tanh(new_c)
            new_h *= z[:, 2 * u: 3 * u]
            return new_h, new_c
        i = self.recurrent_act(z[:, :u])
        f = self.recurrent_act(z[:, u: 2 * u])
        new_c = f * c + i * self.act(z[:, 2 * u: 3 * u])
        o = self.recurrent_act(z[:, 3 * u:])
        return o * self.act(new_c), new_c

    def _gru(self, projected: Array, h: Array) -> Array:
        u = self.units
        if self.reset_after:
            inner = h @ self.recurrent_kernel
            if self.recurrent_bias is not None:
                inner += self.recurrent_bias
            gates = projected[:, : 2 * u] + inner[:, : 2 * u]
            recurrent_h = inner[:, 2 * u:]
        else:
            gates = projected[:, : 2 * u] + h @ self.recurrent_kernel[:, : 2 * u]
            recurrent_h = None
        if self.fused:
            np.tanh(gates, out=gates)
            gates *= 0.5
            gates += 0.5
        else:
            gates = self.recurrent_act(gates)
        z, r = gates[:, :u], gates[:, u:]
        if recurrent_h is not None:
            candidate = r * recurrent_h
        else:
            candidate = (r * h) @ self.recurrent_kernel[:, 2 * u:]
        candidate += projected[:, 2 * u:]
        candidate = np.tanh(candidate, out=candidate) if self.fused else self.act(candidate)
        # z * h + (1 - z) * candidate, with one product fewer.
        new_h = h - candidate
        new_h *= z
        new_h += candidate
        return new_h


def _settled(history: list[Array], t: int) -> bool:
    """Whether step ``t`` left every state exactly as it found it."""
    return all(np.array_equal(slot[t], slot[t + 1]) for slot in history)


def _lookup(name: str) -> Callable[[Array], Array]:
    return activation(name)


def _fused_layout(kind: str, units: int) -> tuple[Array, Array]:
    """Column order and scale that put the sigmoid gates first, pre-scaled by 1/2."""
    u = units
    span = np.arange(u)
    if kind == "lstm":  # Keras i f c o -> i f o c
        order = np.concatenate([span, span + u, span + 3 * u, span + 2 * u])
        scale = np.concatenate([np.full(3 * u, 0.5), np.ones(u)])
    else:  # GRU z r h: already sigmoid gates first
        order = np.arange(3 * u)
        scale = np.concatenate([np.full(2 * u, 0.5), np.ones(u)])
    return order, scale.astype(np.float32)


# ---------------------------------------------------------------------------------- conv, pool


def same_padding(length: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's "same" padding (left, right): the extra element goes to the right."""
    out_length = -(-length // stride)
    effective = (window - 1) * dilation + 1
    total = max((out_length - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def conv1d(x: Array, kernel: Array, bias: Array | None, *, stride: int, padding: str,
           dilation: int = 1) -> Array:
    """Keras' Conv1D (channels_last) on (batch, steps, channels); kernel (width, in, out)."""
    width = kernel.shape[0]
    effective = (width - 1) * dilation + 1
    if padding == "same":
        left, right = same_padding(x.shape[1], width, stride, dilation)
    elif padding == "causal":
        left, right = effective - 1, 0
    else:
        left = right = 0
    if left or right:
        x = np.pad(x, ((0, 0), (left, right), (0, 0)))
    out_length = (x.shape[1] - effective) // stride + 1
    if out_length <= 0:
        raise ValueError(f"Conv1D of width {width} does not fit {x.shape[1]} steps")
    out = np.zeros((x.shape[0], out_length, kernel.shape[2]), np.float32)
    stop = (out_length - 1) * stride + 1
    for tap in range(width):
        start = tap * dilation
        out += x[:, start: start + stop: stride] @ kernel[tap]
    if bias is not None:
        out += bias
    return out


def conv1d_update(x: Array, previous: Array, changed: Array, kernel: Array,
                  bias: Array | None, function: Callable[[Array], Array], *, stride: int,
                  padding: str, dilation: int = 1) -> Array:
    """``function(conv1d(x))`` for one row (batch 1) whose previous value was ``previous``,
    given the input positions that ``changed`` since (sorted, not empty): only the outputs
    whose window reads a changed position are computed, the rest are copied.

    A keystroke changes one or two tokens of the text, so the convolution costs a few
    windows instead of one per position; the copied outputs are bit for bit those of the
    last call, which lets a recurrent layer after it reuse its states up to the change.
    """
    width, steps = kernel.shape[0], x.shape[1]
    effective = (width - 1) * dilation + 1
    if padding == "same":
        left, _ = same_padding(steps, width, stride, dilation)
    elif padding == "causal":
        left = effective - 1
    else:
        left = 0
    out_length = previous.shape[1]
    # output o reads the padded positions o*stride .. o*stride + effective - 1
    low = max(0, -(-(int(changed[0]) + left - effective + 1) // stride))
    high = min(out_length, (int(changed[-1]) + left) // stride + 1)
    out = previous.copy()
    if high <= low:
        return out
    first = low * stride - left  # the input position of the first window's first tap
    length = (high - 1 - low) * stride + effective
    segment = np.zeros((1, length, x.shape[2]), np.float32)
    begin, end = max(first, 0), min(first + length, steps)
    segment[:, begin - first: end - first] = x[:, begin:end]
    out[:, low:high] = function(conv1d(segment, kernel, bias, stride=stride, padding="valid",
                                       dilation=dilation))
    return out


def max_pool1d(x: Array, *, pool: int, stride: int, padding: str) -> Array:
    """Keras' MaxPooling1D on (batch, steps, channels)."""
    if padding == "same":
        left, right = same_padding(x.shape[1], pool, stride)
        if left or right:
            x = np.pad(x, ((0, 0), (left, right), (0, 0)), constant_values=-np.inf)
    out_length = (x.shape[1] - pool) // stride + 1
    if out_length <= 0:
        raise ValueError(f"MaxPooling1D of size {pool} does not fit {x.shape[1]} steps")
    stop = (out_length - 1) * stride + 1
    out = x[:, 0:stop:stride].copy()
    for offset in range(1, pool):
        np.maximum(out, x[:, offset: offset + stop: stride], out=out)
    return out
