"""Numeric sequences typed or piped to a sequence model: one line of numbers per input.

A sequence model (the series toy, the multiplication problem) reads (timesteps, channels)
numbers. One input is one line: the numbers in time order, ``channels`` per step, separated
by commas, semicolons or spaces, so a CSV row and ``"0.1 0.2 0.3 0.4"`` both work. With
several channels, a step may also be grouped with ``;`` or spaces and its channels with
commas (``"0.5,1 0.2,0"``); only the count and the order matter.

>>> steps = parse_sequence("0.1, 0.2 0.3;0.4", timesteps=4, channels=1)
>>> steps[:, 0].astype(float).round(2).tolist()
[0.1, 0.2, 0.3, 0.4]
>>> parse_sequence("0.5,1 0.2,0", timesteps=None, channels=2).shape
(2, 2)
"""

from __future__ import annotations

import math
import re

import numpy as np

_SEPARATORS = re.compile(r"[\s,;]+")
MAX_NUMBERS = 1_000_000  # one line of input is bounded


def fields(text: str) -> list[str]:
    """The non-empty fields of a line (split at commas, semicolons and whitespace)."""
    return [field for field in _SEPARATORS.split(text.strip()) if field]


def is_header(text: str) -> bool:
    """A CSV header line: fields, none of them a number (``x1,x2,x3,x4``)."""
    names = fields(text)
    return bool(names) and not any(_is_number(name) for name in names)


def parse_sequence(text: str, *, timesteps: int | None, channels: int | None) -> np.ndarray:
    """(steps, channels) float32 from one line; ValueError says what is wrong with it.

    ``timesteps`` None accepts any number of steps (a model built without a fixed length).
    """
    channels = channels or 1
    parts = fields(text)
    if not parts:
        raise ValueError("no numbers")
    if len(parts) > MAX_NUMBERS:
        raise ValueError(f"more than {MAX_NUMBERS:,} numbers")
    values = []
    for position, part in enumerate(parts, start=1):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{part[:20]!r} (number {position}) is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{part!r} (number {position}) is not a finite number")
        values.append(value)
    expected = None if timesteps is None else timesteps * channels
    if expected is not None and len(values) != expected:
        shape = f"{timesteps} steps" + (f" x {channels} channels" if channels > 1 else "")
        raise ValueError(f"{len(values)} numbers; the model reads {shape} = {expected}")
    if len(values) % channels:
        raise ValueError(f"{len(values)} numbers do not make whole steps of {channels} "
                         "channels")
    return np.asarray(values, dtype=np.float32).reshape(-1, channels)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
