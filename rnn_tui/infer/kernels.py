"""Compiled step loops (numba) for recomputing one text in a live session.

A model that cannot stream (Bidirectional, Conv1D) recomputes on every keystroke: the
backward half of a BiLSTM reads the whole text again, a Conv1D model's LSTM runs over the
padding after it. For one row NumPy spends most of a step on call overhead (a dozen
ufunc calls of ~0.25 us around one small matrix product), so these loops are compiled:
the same step, the gates and the cell update in one pass: per step 2.7x faster for an
LSTM(64), 1.5x for an LSTM(100), whose recurrent kernel no longer fits the L1 cache
(bench/README.md has the figures).

They are used only where they pay: ``warm_up()`` (called by a recomputing live session)
imports numba and compiles the loops on a background thread, with numba's on-disk cache,
and until they are ready, or where numba is missing, the NumPy loops of ``ops`` run. A
``rnn-tui predict`` one-liner never imports numba. ``RNN_TUI_KERNELS=numpy`` turns them
off. The compiled code is cached under ``$RNN_TUI_HOME/cache/numba`` (``NUMBA_CACHE_DIR``
overrides).

tanh is Eigen's float32 rational approximation (the one TensorFlow's CPU kernels use),
which vectorizes; a sigmoid gate is ``0.5 * tanh(x / 2) + 0.5`` with the halving folded into
the weights (see ``ops``). Results agree with the NumPy loops to a few 1e-7.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from typing import Any

import numpy as np

from rnn_tui import paths

_lock = threading.Lock()
_ready: Any = None  # the module of compiled loops (_numba_loops), once compiled
_status = "off"  # off -> compiling -> ready | unavailable | disabled
_thread: threading.Thread | None = None
_error: str | None = None


def enabled() -> bool:
    return os.environ.get("RNN_TUI_KERNELS", "").strip().lower() not in ("numpy", "off", "0")


def status() -> str:
    """off, compiling, ready, unavailable (numba missing or failing) or disabled."""
    return "disabled" if not enabled() else _status


def ready() -> Any:
    """The compiled loops if they are ready, else None (never waits, never imports)."""
    return _ready if _ready is not None and enabled() else None


def warm_up(wait: bool = False) -> Any:
    """Start compiling the loops (once per process) on a background thread; ``wait``:
    block until done. Returns the loops when ready, else None."""
    global _status, _thread
    if not enabled():
        return None
    with _lock:
        if _status == "off":
            _status = "compiling"
            _thread = threading.Thread(target=_compile, name="rnn-tui-kernels", daemon=True)
            _thread.start()
        thread = _thread
    if wait and thread is not None:
        thread.join()
    return ready()


def _compile() -> None:
    global _ready, _status, _error
    try:
        # numba's cache goes under rnn-tui's home (any user can write there), and its
        # warnings (a cache it cannot use, say) never reach the terminal
        os.environ.setdefault("NUMBA_CACHE_DIR", str(paths.home() / "cache" / "numba"))
        warnings.filterwarnings("ignore", module=r"numba(\.|$)")
        loops = importlib.import_module("rnn_tui.infer._numba_loops")  # imports numba

        # compile now (float32 signatures), not on the first keystroke
        units, gates = 2, 8
        history = np.zeros((3, units), np.float32)
        repeated = np.zeros(2, np.bool_)
        loops.lstm_rows(np.zeros((2, gates), np.float32), np.zeros((units, gates), np.float32),
                        history, history.copy(), 0, 2, repeated)
        loops.gru_rows(np.zeros((2, 6), np.float32), np.zeros((units, 6), np.float32),
                       np.zeros(6, np.float32), history, 0, 2, repeated, True)
        _ready, _status = loops, "ready"
    except Exception as error:  # numba missing, or no compiler for this platform
        _error = f"{type(error).__name__}: {error}"
        _status = "unavailable"

