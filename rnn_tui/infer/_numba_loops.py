"""The compiled loops of ``kernels`` (imported only by it: importing this imports numba).

Module-level functions, so that numba's on-disk cache (``cache=True``) finds them again in
the next process instead of compiling for a few seconds.
"""

import numba
import numpy as np

_OPTIONS = dict(cache=True, nogil=True, boundscheck=False,
                # no NaN/inf in a step's inputs, contraction into FMAs allowed: what lets
                # LLVM vectorize the loops. No approximate division or functions.
                fastmath={"nnan", "ninf", "nsz", "contract"})
HALF = np.float32(0.5)
LIMIT = np.float32(7.90531110763549805)


@numba.njit(inline="always", **_OPTIONS)
def tanh(x):
    """Eigen's generic_fast_tanh_float (TensorFlow's CPU tanh): an odd rational 13/6."""
    x = min(max(x, -LIMIT), LIMIT)
    x2 = x * x
    p = np.float32(-2.76076847742355e-16)
    p = p * x2 + np.float32(2.00018790482477e-13)
    p = p * x2 + np.float32(-8.60467152213735e-11)
    p = p * x2 + np.float32(5.12229709037114e-08)
    p = p * x2 + np.float32(1.48572235717979e-05)
    p = p * x2 + np.float32(6.37261928875436e-04)
    p = p * x2 + np.float32(4.89352455891786e-03)
    q = np.float32(1.19825839466702e-06)
    q = q * x2 + np.float32(1.18534705686654e-04)
    q = q * x2 + np.float32(2.26843463243900e-03)
    q = q * x2 + np.float32(4.89352518554385e-03)
    return p * x / q


@numba.njit(**_OPTIONS)
def lstm_rows(projected, kernel, hs, cs, begin, end, repeated):
    """Steps begin..end-1 of a fused LSTM (``ops.RecurrentCell.run_row``'s contract).

    hs, cs: (steps + 1, units), row t the state before step t. Internal gate order i f o c,
    i f o pre-scaled by 1/2 (``ops._fused_layout``)."""
    units = hs.shape[1]
    width = kernel.shape[1]
    z = np.empty(width, np.float32)
    for t in range(begin, end):
        for j in range(width):
            z[j] = projected[t, j]
        for k in range(units):
            hk = hs[t, k]
            for j in range(width):
                z[j] += hk * kernel[k, j]
        for j in range(width):
            z[j] = tanh(z[j])
        for k in range(units):
            i = HALF * z[k] + HALF
            f = HALF * z[units + k] + HALF
            cs[t + 1, k] = f * cs[t, k] + i * z[3 * units + k]
        for k in range(units):
            hs[t + 1, k] = (HALF * z[2 * units + k] + HALF) * tanh(cs[t + 1, k])
        if repeated[t] and t % 8 == 0 and _settled(hs, t) and _settled(cs, t):
            return t + 1
    return end


@numba.njit(**_OPTIONS)
def gru_rows(projected, kernel, recurrent_bias, hs, begin, end, repeated, reset_after):
    """Steps begin..end-1 of a fused GRU: gate order z r h, z r pre-scaled by 1/2.
    ``reset_after`` (Keras' default): the reset gate multiplies ``h @ kernel + bias``."""
    units = hs.shape[1]
    inner = np.empty(3 * units, np.float32)
    gates = np.empty(2 * units, np.float32)
    for t in range(begin, end):
        if reset_after:
            for j in range(3 * units):
                inner[j] = recurrent_bias[j]
            for k in range(units):
                hk = hs[t, k]
                for j in range(3 * units):
                    inner[j] += hk * kernel[k, j]
        else:
            for j in range(3 * units):
                inner[j] = 0.0
            for k in range(units):
                hk = hs[t, k]
                for j in range(2 * units):
                    inner[j] += hk * kernel[k, j]
        for j in range(2 * units):
            gates[j] = HALF * tanh(projected[t, j] + inner[j]) + HALF
        if not reset_after:  # the candidate reads (r * h) @ kernel
            for k in range(units):
                rk = gates[units + k] * hs[t, k]
                for j in range(units):
                    inner[2 * units + j] += rk * kernel[k, 2 * units + j]
        for k in range(units):
            recurrent = inner[2 * units + k]
            if reset_after:
                recurrent = gates[units + k] * recurrent
            candidate = tanh(recurrent + projected[t, 2 * units + k])
            hs[t + 1, k] = (hs[t, k] - candidate) * gates[k] + candidate
        if repeated[t] and t % 8 == 0 and _settled(hs, t):
            return t + 1
    return end


@numba.njit(inline="always", **_OPTIONS)
def _settled(states, t):
    for k in range(states.shape[1]):
        if states[t + 1, k] != states[t, k]:
            return False
    return True
