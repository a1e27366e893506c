"""The two generated regression tasks of the first tutorial; no files, any size, seeded.

``series``: windows of ``length`` consecutive values of the line ``i * step`` and the next
value as the target. Training windows start at 0, 1, ..., ``train_size - 1``: with the
defaults (6 windows of 4, step 0.1) exactly the tutorial's ``[0.0 .. 0.3] -> 0.4`` ...
``[0.5 .. 0.8] -> 0.9``. Test windows start at integers drawn from
``RandomState(seed).randint(-length, train_size + length)``, so they probe a little
extrapolation on both sides (the tutorial asks for ``[-0.1 .. 0.2] -> 0.3``).
Features: (n, length, 1).

``multiplication`` (Hochreiter & Schmidhuber 1997, the tutorial's LSTM test): each sequence
has ``length`` steps of (marker, value), value ~ U(0, 1); exactly two distinct steps carry
marker 1 and the target is the product of their values. Features: (n, length, 2), channel 0
the marker, channel 1 the value, as the tutorial zips them. Generated from
``numpy.random.default_rng(seed)``: training sequences first, then test ones.

>>> corpus = load_multiplication(train_size=8, test_size=2, seed=0)
>>> corpus.train.features.shape, corpus.train.labels.dtype
((8, 100, 2), dtype('float32'))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from rnn_tui.data import catalog
from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import UserError


def _positive(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UserError(f"{name} must be a whole number >= {minimum}, not {value!r}")
    return int(value)


def _corpus(name: str, train: Split, test: Split, notes: list[str]) -> Corpus:
    info = catalog.get(name)
    return Corpus(
        name=name,
        task=info.task,
        label_names=[],
        language=None,
        train=train,
        test=test,
        source=info.source(),
        notes=notes,
        form="generated",
    )


def series_windows(starts: np.ndarray, length: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``[(s + k) * step for k < length]`` and targets ``(s + length) * step``."""
    starts = np.asarray(starts, dtype=np.float64)[:, None]
    positions = starts + np.arange(length + 1)[None, :]
    values = (positions * step).astype(np.float32)
    return values[:, :length, None], values[:, length]


def load_series(
    data_home: Path | str | None = None,
    *,
    train_size: int = 6,
    test_size: int = 6,
    length: int = 4,
    step: float = 0.1,
    seed: int = 0,
) -> Corpus:
    """The series toy: ``length`` values -> the next one (see the module docstring).

    >>> load_series().train.features[0, :, 0].astype(float).round(1).tolist()
    [0.0, 0.1, 0.2, 0.3]
    """
    train_size = _positive("train_size", train_size)
    test_size = _positive("test_size", test_size)
    length = _positive("length", length)
    train_x, train_y = series_windows(np.arange(train_size), length, step)
    starts = np.random.RandomState(seed).randint(-length, train_size + length, size=test_size)
    test_x, test_y = series_windows(starts, length, step)
    notes = [
        f"train: windows starting at 0..{train_size - 1}; test: starts drawn from "
        f"RandomState({seed}).randint({-length}, {train_size + length})",
    ]
    return _corpus(
        "series", Split(train_y, features=train_x), Split(test_y, features=test_x), notes
    )


def multiplication_problem(
    count: int, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` sequences of (marker, value) pairs and the products of the marked values."""
    values = rng.random((count, length))
    first = rng.integers(0, length, size=count)
    # an offset in 1..length-1 makes the second position uniform over the other positions
    second = (first + rng.integers(1, length, size=count)) % length
    markers = np.zeros((count, length))
    rows = np.arange(count)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    features = np.stack([markers, values], axis=-1).astype(np.float32)
    targets = (values[rows, first] * values[rows, second]).astype(np.float32)
    return features, targets


def load_multiplication(
    data_home: Path | str | None = None,
    *,
    train_size: int = 2560,
    test_size: int = 512,
    length: int = 100,
    seed: int = 0,
) -> Corpus:
    """The multiplication problem (see the module docstring)."""
    train_size = _positive("train_size", train_size)
    test_size = _positive("test_size", test_size)
    length = _positive("length", length, minimum=2)
    rng = np.random.default_rng(seed)
    train_x, train_y = multiplication_problem(train_size, length, rng)
    test_x, test_y = multiplication_problem(test_size, length, rng)
    notes = [
        f"generated with numpy default_rng({seed}): {train_size:,} train then {test_size:,} "
        f"test sequences of length {length}"
    ]
    return _corpus(
        "multiplication", Split(train_y, features=train_x), Split(test_y, features=test_x), notes
    )


LOADERS: dict[str, Callable[..., Corpus]] = {
    "series": load_series,
    "multiplication": load_multiplication,
}
