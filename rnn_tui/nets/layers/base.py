"""What one layer kind of an architecture spec is made of (see ``rnn_tui.nets.layers``).

A kind says how it is written (its fields and their defaults, the positional ones of the
compact syntax, aliases, one help line), what it reads and gives (a sequence or a vector:
``spec._check_shapes`` walks the ranks with it) and how it becomes Keras layers
(``build(context, layer, index)``, which replaces ``context.tensor``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REQUIRED = object()  # a field default that must be given
SEQUENCE, VECTOR = "sequence", "vector"


@dataclass
class BuildContext:
    """The state of ``build_model`` while it walks a spec's layers."""

    layers_module: Any  # keras.layers
    spec: dict[str, Any]
    model_input: Any  # nets.build.ModelInput
    padding: str
    embedding_weights: Any = None
    mask_zero: bool = False  # the embeddings mask id 0 (``build.mask_zero_for``)
    vocabulary: Any = None  # the training vocabulary (``text.Vocabulary``), if known
    tensor: Any = None  # the output so far
    state: Any = None  # the final state of a recurrent layer built for pool:...+last
    assignment: dict[int, int] = field(default_factory=dict)  # n-gram order -> layer index
    stream_inputs: dict[int, Any] = field(default_factory=dict)  # n -> its Keras Input
    counts: Counter = field(default_factory=Counter)
    sequences: list[bool] = field(default_factory=list)  # per layer: gives a sequence

    @property
    def body(self) -> list[dict[str, Any]]:
        return self.spec["layers"]

    def next_name(self, kind: str) -> str:
        """``<kind>_<n>``, counted per kind from 1 (``lstm_1``, ``lstm_2``)."""
        self.counts[kind] += 1
        return f"{kind}_{self.counts[kind]}"


@dataclass(frozen=True)
class LayerKind:
    """One ``type`` of a spec's layers.

    Args:
        name: the spec's ``type`` (``"conv1d"``).
        fields: field -> default (REQUIRED: must be given); the canonical order.
        positional: the fields the compact syntax reads from ``kind:A:B``.
        build: ``(context, layer, index) -> None``; None for a kind another builds with it.
        aliases: other names in specs and the compact syntax (``"conv"``).
        short: the compact name ``to_compact`` writes (default: ``name``).
        help: its lines of ``COMPACT_HELP``.
        is_input: a first layer, reading token ids.
        takes: SEQUENCE or VECTOR, what its input must be (None: either).
        gives: SEQUENCE or VECTOR (None: as its input; recurrent kinds decide per spec).
        carries_mask: a mask passes through it (Conv1D, MaxPooling1D and Flatten drop it,
            so models with them never mask the pads).
        choices: per field, the values it accepts (activation names, modes).
        check: ``(layers, index) -> None``: raise a spec error for a misplaced layer.
        parsers: per field, ``(value, name, where) -> value`` for fields the spec's common
            rules do not know (``as_int`` for a count).
    """

    name: str
    fields: dict[str, Any]
    positional: tuple[str, ...]
    build: Callable[[BuildContext, dict[str, Any], int], None] | None
    aliases: tuple[str, ...] = ()
    short: str | None = None
    help: str = ""
    is_input: bool = False
    takes: str | None = None
    gives: str | None = None
    carries_mask: bool = True
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    check: Callable[[list[dict[str, Any]], int], None] | None = None
    parsers: dict[str, Callable[[Any, str, str], Any]] = field(default_factory=dict)


def spec_error(message: str, where: str | None = None):
    """The UserError of a spec problem, naming the layer when there is one."""
    from rnn_tui.errors import UserError

    return UserError(f"architecture: {where}: {message}" if where
                     else f"architecture: {message}")


# ---------------------------------------------------------------------------- values
def as_int(value: Any, name: str, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool):
        raise spec_error(f"{name} must be a whole number, not {value!r}", where)
    if isinstance(value, str):
        value = value.strip()
        if not (value.lstrip("-").isdigit() and value.isascii()):  # not "²", not "１"
            raise spec_error(f"{name} must be a whole number, not {value!r}", where)
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < minimum:
        raise spec_error(f"{name} must be a whole number >= {minimum}, not {value!r}", where)
    return value


def as_rate(value: Any, name: str, where: str) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise spec_error(f"{name} must be a number in [0, 1), not {value!r}", where) from None
    if isinstance(value, bool) or not 0.0 <= rate < 1.0:
        raise spec_error(f"{name} must be a number in [0, 1), not {value!r}", where)
    return rate


def as_bool(value: Any, name: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "no", "0", "off"):
        return False
    raise spec_error(f"{name} must be true or false, not {value!r}", where)


def as_choice(value: Any, name: str, choices: tuple[str, ...], where: str) -> str:
    if not isinstance(value, str) or value.lower() not in choices:
        raise spec_error(f"{name} must be one of {', '.join(choices)}, not {value!r}", where)
    return value.lower()
