"""The compiled step loops (numba) against the NumPy loops they stand in for, and where a
process uses them: a recomputing live session, never a one-liner.

Keras parity of the compiled loops is in test_infer_parity.py (every architecture is also
run as a live session); here they meet the NumPy loops on cells of awkward sizes, and the
sessions of test_infer_streaming.py run with and without them.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from infer_helpers import bidirectional
from rnn_tui.infer import kernels, ops
from rnn_tui.infer.streaming import RecomputeStream, make_stream
from test_infer_streaming import conv_then_lstm, edit_walk, reference


@pytest.fixture
def loops():
    compiled = kernels.warm_up(wait=True)
    assert compiled is not None, f"numba loops unavailable: {kernels._error}"
    return compiled


def random_cell(kind: str, units: int, width: int, seed: int, **options) -> ops.RecurrentCell:
    rng = np.random.default_rng(seed)
    gates = ops.GATES[kind]
    if kind == "gru" and options.get("reset_after", True):
        bias = rng.normal(0, 0.5, (2, gates * units))
    else:
        bias = rng.normal(0, 0.5, gates * units)
    return ops.RecurrentCell.from_weights(
        kind, units=units, kernel=rng.normal(0, 0.6, (width, gates * units)),
        # recurrent weights of a trained model's size (random 0.6 everywhere makes a wide
        # cell chaotic: any two float32 tanh then drift apart over 40 steps)
        recurrent_kernel=rng.normal(0, 1.0 / np.sqrt(units), (units, gates * units)),
        bias=bias, **options)


def run(cell, projected, repeated, compiled, begin=0):
    steps = len(projected)
    history = [np.zeros((steps + 1, 1, cell.units), np.float32)
               for _ in range(cell.state_count)]
    stop = cell.run_row(projected, history, begin, steps, repeated, compiled)
    return stop, history


CELLS = [("lstm", {}), ("gru", {}), ("gru", {"reset_after": False})]


@pytest.mark.parametrize("units", [1, 5, 37, 64])
@pytest.mark.parametrize(("kind", "options"), CELLS, ids=["lstm", "gru", "gru-reset-before"])
def test_compiled_loops_compute_what_numpy_computes(loops, kind, options, units):
    cell = random_cell(kind, units, width=7, seed=units, **options)
    rng = np.random.default_rng(1)
    projected = cell.project(rng.normal(0, 1, (40, 7)).astype(np.float32))
    repeated = np.zeros(40, bool)
    stop_numpy, expected = run(cell, projected, repeated, None)
    stop_compiled, got = run(cell, projected, repeated, loops)
    assert stop_numpy == stop_compiled == 40
    for want, have in zip(expected, got):
        np.testing.assert_allclose(have, want, atol=2e-6, rtol=0)
        assert np.abs(have).max() > 0.05  # the states moved: the comparison means something


def test_compiled_loops_start_where_told_and_leave_earlier_rows(loops):
    cell = random_cell("lstm", 6, width=3, seed=3)
    projected = cell.project(np.random.default_rng(2).normal(0, 1, (10, 3)).astype(np.float32))
    steps = len(projected)
    history = [np.full((steps + 1, 1, 6), 0.25, np.float32) for _ in range(2)]
    cell.run_row(projected, history, 4, 7, np.zeros(steps, bool), loops)
    for slot in history:
        assert np.all(slot[:5] == 0.25) and np.all(slot[8:] == 0.25)
        assert not np.any(slot[5:8] == 0.25)


@pytest.mark.parametrize(("kind", "options"), CELLS, ids=["lstm", "gru", "gru-reset-before"])
def test_compiled_loops_stop_at_a_fixed_point(loops, kind, options):
    """One input repeated: the state settles, exactly, and the loop says where (within the
    8-step check) so that the runtime skips the rest of the run. (NumPy's GRU here ends in
    a two-value cycle one ulp wide, which is no fixed point: it runs all 400 steps.)"""
    cell = random_cell(kind, 8, width=4, seed=5, **options)
    cell.recurrent_kernel *= 0.1  # a contraction: the state settles
    row = cell.project(np.random.default_rng(4).normal(0, 1, (1, 4)).astype(np.float32))
    projected = np.repeat(row, 400, axis=0)
    repeated = np.ones(400, bool)
    repeated[0] = False
    stop_numpy, expected = run(cell, projected, repeated, None)
    stop_compiled, got = run(cell, projected, repeated, loops)
    assert stop_compiled < 400
    for want, have in zip(expected, got):
        np.testing.assert_allclose(have[stop_compiled], want[stop_numpy], atol=2e-6)
        assert np.all(have[stop_compiled] == have[stop_compiled - 1])


class CountingLoops:
    """The compiled loops, counting their calls."""

    def __init__(self, compiled):
        self.compiled, self.calls = compiled, 0

    def __getattr__(self, name):
        function = getattr(self.compiled, name)

        def counted(*args):
            self.calls += 1
            return function(*args)
        return counted


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("build", [conv_then_lstm, bidirectional])
@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_recomputing_sessions_with_either_engine(loops, monkeypatch, build, padding, engine):
    counting = CountingLoops(loops)
    monkeypatch.setattr(kernels, "_ready", counting)
    if engine == "numpy":
        monkeypatch.setenv("RNN_TUI_KERNELS", "numpy")
    runtime = build(maxlen=12)
    stream = make_stream(runtime, maxlen=12, padding=padding, truncating="pre")
    assert isinstance(stream, RecomputeStream)
    for ids in edit_walk(seed=12, steps=60, maxlen=12):
        np.testing.assert_allclose(stream.update(ids), reference(runtime, stream, ids),
                                   atol=2e-6, equal_nan=True, err_msg=f"ids={ids}")
    assert (counting.calls > 0) == (engine == "compiled")
    # the arrays a session passes have the warm-up's types and layouts: nothing compiles
    # again on a keystroke (that would stall it for a second)
    assert len(loops.lstm_rows.signatures) == 1 and len(loops.gru_rows.signatures) == 1


def test_one_text_predicted_alone_never_uses_them(loops, monkeypatch):
    """`predict` is one evaluation: NumPy, the same result whether or not a session has
    compiled the loops in this process."""
    counting = CountingLoops(loops)
    monkeypatch.setattr(kernels, "_ready", counting)
    runtime = bidirectional(maxlen=12)
    runtime.run(np.array([[3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]]))
    assert counting.calls == 0


def test_without_numba_the_numpy_loops_run(monkeypatch):
    """numba missing (or failing to compile on this platform): sessions work the same."""
    for name, value in (("_status", "off"), ("_ready", None), ("_thread", None)):
        monkeypatch.setattr(kernels, name, value)
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` raises ImportError
    monkeypatch.delitem(sys.modules, "rnn_tui.infer._numba_loops", raising=False)
    assert kernels.warm_up(wait=True) is None
    assert kernels.status() == "unavailable" and "numba" in kernels._error
    runtime = bidirectional(maxlen=12)
    stream = make_stream(runtime, maxlen=12, padding="post", truncating="pre")
    for ids in edit_walk(seed=3, steps=20, maxlen=12):
        np.testing.assert_allclose(stream.update(ids), reference(runtime, stream, ids),
                                   atol=2e-6, equal_nan=True)


def test_switched_off_by_the_environment(monkeypatch, loops):
    monkeypatch.setenv("RNN_TUI_KERNELS", "numpy")
    assert kernels.status() == "disabled" and kernels.ready() is None
    assert kernels.warm_up() is None
