"""Architecture specs: plain JSON that says which layers a model has, checked and normalised.

A spec is a dict with a list of layers and an optional head::

    {"layers": [{"type": "embedding", "dim": 32},
                {"type": "lstm", "units": 64},
                {"type": "lstm", "units": 32}],
     "head": {"activation": "auto"}}

The first layer decides the input: ``embedding`` or ``onehot`` take token ids; anything else
takes numeric sequences of shape (timesteps, channels). ``ngram_embedding`` items right after
the embedding read the n-gram streams (``rnn_tui.text.features``); the embeddings of all
streams are concatenated position by position before the next layer. ``return_sequences``
is never written by hand: a recurrent layer returns its whole sequence exactly when the next
layer (skipping plain dropout) consumes a sequence. The head follows the task unless the spec says otherwise
(see ``resolve_head``).

The same spec can be written as a compact string, one item per layer, separated by spaces::

    emb:32 lstm:64 lstm:32
    emb:100 dropout:0.5 conv1d:64:5 maxpool:4 lstm:100
    emb:128,mask=false bilstm:64,dropout=0.2 pool:max+average dense:64 dropout:0.3
    emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5
    onehot simplernn:8
    gru:30 gru:30 head:linear

Each item is ``kind[:positional...][,key=value...]``; see ``COMPACT_HELP`` for the kinds.

>>> normalize_spec(parse_compact("emb:32 lstm:64 lstm:32"))["layers"][1]
{'type': 'lstm', 'units': 64, 'dropout': 0.0, 'recurrent_dropout': 0.0, 'bidirectional': False}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnn_tui.errors import DataError, UserError
from rnn_tui.nets.layers import KINDS
from rnn_tui.nets.layers.base import REQUIRED as _REQUIRED
from rnn_tui.nets.layers.base import SEQUENCE, VECTOR
from rnn_tui.nets.layers.base import as_bool as _as_bool
from rnn_tui.nets.layers.base import as_choice as _as_choice
from rnn_tui.nets.layers.base import as_int as _as_int
from rnn_tui.nets.layers.base import as_rate as _as_rate
from rnn_tui.nets.layers.base import spec_error as _spec_error
from rnn_tui.nets.layers.convolution import CONV_ACTIVATIONS
from rnn_tui.nets.layers.dense import DENSE_ACTIVATIONS
from rnn_tui.nets.layers.pooling import POOL_MODES
from rnn_tui.nets.layers.pooling import pool_mode as _pool_mode
from rnn_tui.nets.layers.recurrent import BIDIRECTIONAL as _BIDIRECTIONAL
from rnn_tui.nets.layers.recurrent import RECURRENT

SPEC_FORMAT_VERSION = 1
HEAD_ACTIVATIONS = ("auto", "sigmoid", "softmax", "linear")
__all__ = ["CONV_ACTIVATIONS", "DENSE_ACTIVATIONS", "HEAD_ACTIVATIONS", "POOL_MODES",
           "RECURRENT", "COMPACT_HELP", "LAYER_FIELDS", "load_spec_file", "ngram_assignment",
           "normalize_spec", "parse_compact", "return_sequences", "to_compact"]

# type -> {field: default}; a default of _REQUIRED must be given (each kind's module says).
LAYER_FIELDS: dict[str, dict[str, Any]] = {name: kind.fields for name, kind in KINDS.items()}
HEAD_FIELDS: dict[str, Any] = {"activation": "auto", "units": "auto", "separate_activation": False}
# The linear n-gram channel (``linear:WEIGHT,c=C``): a naive-Bayes-weighted logistic regression
# on the mean of every stream's ids, fitted after the network and added to its logit.
LINEAR_FIELDS: dict[str, Any] = {"weight": 1.0, "c": 1000.0}

# Layers that need a (batch, time, features) input, and what they give.
_TAKES_SEQUENCE = {name for name, kind in KINDS.items() if kind.takes == SEQUENCE}
_TAKES_VECTOR = {name for name, kind in KINDS.items() if kind.takes == VECTOR}
_GIVES_VECTOR = {name for name, kind in KINDS.items() if kind.gives == VECTOR}
_INPUT_LAYERS = {name for name, kind in KINDS.items() if kind.is_input}

# Compact syntax: aliases and the positional fields of each kind.
_ALIASES = {alias: name for name, kind in KINDS.items() for alias in kind.aliases}
_POSITIONAL: dict[str, tuple[str, ...]] = {
    **{name: kind.positional for name, kind in KINDS.items()},
    "head": ("activation", "units"), "linear": ("weight",),
}
# Short keys accepted in compact items.
_KEY_ALIASES = {"mask": "mask_zero", "rd": "recurrent_dropout", "bi": "bidirectional",
                "kernel": "kernel_size", "format": "vectors_format",
                "separate": "separate_activation"}

COMPACT_HELP = "\n".join([
    "Compact architecture syntax: items separated by spaces, each KIND[:ARG...][,KEY=VALUE...].",
    *(kind.help for kind in KINDS.values() if kind.help),
    """\
  head:ACT[:U]        the output layer; default follows the task (sigmoid, softmax, linear)
  linear[:W]          binary tasks: add a linear n-gram channel, a naive-Bayes-weighted
                      logistic regression on every id stream (tokens, --ngrams), fitted
                      after training; its logit is added to the network's, times W
                      (keys: c=C, the inverse regularisation, 1000 by default). The
                      streams need no ngram-emb: the channel alone may read them
Input: emb/onehot/bag take token ids; otherwise the model reads numeric sequences.
return_sequences is set automatically between layers."""])


# ---------------------------------------------------------------------------- normalising
def _normalize_layer(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _spec_error(f"layer {index + 1} must be an object with a 'type', not {raw!r}")
    raw = dict(raw)
    kind = raw.pop("type", None)
    if not isinstance(kind, str):
        raise _spec_error(f"layer {index + 1} has no 'type'")
    kind = kind.lower()
    if kind in _BIDIRECTIONAL:
        kind = _BIDIRECTIONAL[kind]
        raw.setdefault("bidirectional", True)
    kind = _ALIASES.get(kind, kind)
    where = f"layer {index + 1} ({kind})"
    if kind not in LAYER_FIELDS:
        known = ", ".join(sorted(LAYER_FIELDS))
        raise _spec_error(f"unknown layer type {kind!r} (known: {known})", f"layer {index + 1}")
    fields = LAYER_FIELDS[kind]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise _spec_error(f"unknown setting(s) {', '.join(unknown)}; "
                          f"this layer takes {', '.join(fields) or 'no settings'}", where)
    layer: dict[str, Any] = {"type": kind}
    for name, default in fields.items():
        if name not in raw:
            if default is _REQUIRED:
                raise _spec_error(f"'{name}' is required", where)
            layer[name] = default
            continue
        value = raw[name]
        if name in KINDS[kind].parsers:
            value = KINDS[kind].parsers[name](value, name, where)
        elif name in ("dim", "units", "filters", "kernel_size", "strides", "pool_size"):
            value = _as_int(value, name, where)
        elif name == "input_dim":
            value = "auto" if value in ("auto", None) else _as_int(value, name, where, 2)
        elif name in ("dropout", "recurrent_dropout", "rate"):
            value = _as_rate(value, name, where)
        elif name in ("bidirectional", "trainable"):
            value = _as_bool(value, name, where)
        elif name == "mask_zero":
            value = "auto" if value in ("auto", None) else _as_bool(value, name, where)
        elif name in KINDS[kind].choices:
            value = _as_choice(value, name, KINDS[kind].choices[name], where)
        elif name == "mode":
            value = _pool_mode(value, where)
        elif name == "vectors":
            if value is not None and (not isinstance(value, str) or not value):
                raise _spec_error("vectors must be a file path", where)
        elif name == "vectors_format":
            from rnn_tui.nets.vectors import VECTOR_FORMATS

            value = _as_choice(value, name, ("auto", *VECTOR_FORMATS), where)
        layer[name] = value
    return layer


def _normalize_head(raw: Any) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if isinstance(raw, str):
        raw = {"activation": raw}
    if not isinstance(raw, dict):
        raise _spec_error(f"head must be an object, not {raw!r}")
    unknown = sorted(set(raw) - set(HEAD_FIELDS))
    if unknown:
        raise _spec_error(f"unknown head setting(s) {', '.join(unknown)}; "
                          f"the head takes {', '.join(HEAD_FIELDS)}")
    head = dict(HEAD_FIELDS)
    head.update(raw)
    head["activation"] = _as_choice(head["activation"], "head activation", HEAD_ACTIVATIONS,
                                    "head")
    if head["units"] not in ("auto", None):
        head["units"] = _as_int(head["units"], "head units", "head")
    else:
        head["units"] = "auto"
    head["separate_activation"] = _as_bool(head["separate_activation"], "separate_activation",
                                           "head")
    return head


def _normalize_linear(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _spec_error(f"linear must be an object, not {raw!r}")
    unknown = sorted(set(raw) - set(LINEAR_FIELDS))
    if unknown:
        raise _spec_error(f"unknown linear setting(s) {', '.join(unknown)}; the linear "
                          f"channel takes {', '.join(LINEAR_FIELDS)}")
    linear = {**LINEAR_FIELDS, **raw}
    for key in LINEAR_FIELDS:
        try:
            value = float(linear[key])
        except (TypeError, ValueError):
            value = float("nan")
        if isinstance(linear[key], bool) or not 0 < value < 1e12:
            raise _spec_error(f"linear {key} must be a positive number, not {linear[key]!r}")
        linear[key] = value
    return linear


def normalize_spec(spec: Any) -> dict[str, Any]:
    """Check a spec and fill every default; the result is canonical JSON-able data.

    Accepts a dict (``{"layers": [...], "head": ...}``), a bare list of layers, or a compact
    string. Problems raise a ``UserError`` that names the layer.

    >>> normalize_spec("onehot simplernn:8")["input"]
    'tokens'
    """
    if isinstance(spec, str):
        spec = parse_compact(spec)
    if isinstance(spec, list):
        spec = {"layers": spec}
    if not isinstance(spec, dict):
        raise _spec_error("a spec is an object with 'layers' (or a list of layers)")
    unknown = sorted(set(spec) - {"layers", "head", "format_version", "input", "linear"})
    if unknown:
        raise _spec_error(f"unknown key(s) {', '.join(unknown)} (a spec has layers, head and "
                          "linear)")
    version = spec.get("format_version", SPEC_FORMAT_VERSION)
    if version != SPEC_FORMAT_VERSION:
        raise _spec_error(f"spec format_version {version!r} is not supported")
    raw_layers = spec.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise _spec_error("'layers' must be a non-empty list")
    layers = [_normalize_layer(raw, index) for index, raw in enumerate(raw_layers)]
    for index, layer in enumerate(layers):
        check = KINDS[layer["type"]].check
        if check is not None:  # a kind's own placement rules
            check(layers, index)
    explicit = [layer["n"] for layer in layers if layer["type"] == "ngram_embedding"
                and layer["n"] != "auto"]
    if len(explicit) != len(set(explicit)):
        raise _spec_error("two n-gram embeddings read the same n")
    _check_shapes(layers)
    normalized = {
        "format_version": SPEC_FORMAT_VERSION,
        "input": "tokens" if layers[0]["type"] in _INPUT_LAYERS else "sequence",
        "layers": layers,
        "head": _normalize_head(spec.get("head")),
    }
    if spec.get("linear") is not None:
        normalized["linear"] = _normalize_linear(spec["linear"])
        if normalized["input"] != "tokens":
            raise _spec_error("the linear channel reads token ids: start with emb")
    declared = spec.get("input")
    if declared not in (None, normalized["input"]):
        raise _spec_error(f"input {declared!r} does not match the first layer "
                          f"({layers[0]['type']} reads {normalized['input']})")
    return normalized


def _check_shapes(layers: list[dict[str, Any]]) -> None:
    """Walk the ranks: every layer must get what it needs, and the body must end in a vector."""
    is_sequence = True  # the input (ids after embedding, or numeric sequences) is (batch, t, f)
    for index, layer in enumerate(layers):
        kind = layer["type"]
        where = f"layer {index + 1} ({kind})"
        if kind in _INPUT_LAYERS:
            is_sequence = KINDS[kind].gives != VECTOR
            continue
        if kind in _TAKES_SEQUENCE and not is_sequence:
            raise _spec_error(
                "needs a sequence but gets a vector: an earlier recurrent layer, pool or "
                "flatten already removed the time axis", where)
        if kind in _TAKES_VECTOR and is_sequence:
            raise _spec_error(
                f"gets a sequence: put a recurrent layer, a pool or flatten before {kind}",
                where)
        if kind in RECURRENT:
            is_sequence = return_sequences(layers, index)
        elif kind in _GIVES_VECTOR:
            is_sequence = False
        elif KINDS[kind].gives == SEQUENCE:
            is_sequence = True
    if is_sequence:
        raise _spec_error("the layers end with a sequence; end with a recurrent layer, "
                          "a pool or flatten (the head needs one vector per sample)")


def return_sequences(layers: list[dict[str, Any]], index: int) -> bool:
    """Whether recurrent layer ``index`` must return its whole sequence.

    True when the next layer that is not plain dropout consumes a sequence.
    """
    for later in layers[index + 1:]:
        if later["type"] == "dropout":
            continue
        return later["type"] in _TAKES_SEQUENCE
    return False


# ---------------------------------------------------------------------------- compact syntax
def _split_items(text: str) -> list[str]:
    # ">" and "|" read naturally as separators too ("emb:32 > lstm:64").
    for separator in (">", "|", "\n", "\t"):
        text = text.replace(separator, " ")
    return [item for item in text.split(" ") if item]


def parse_compact(text: str) -> dict[str, Any]:
    """Parse the compact syntax (see the module docstring) into a spec dict (not normalised).

    >>> parse_compact("emb:32,mask=false bilstm:16 pool:max")["layers"][1]
    {'type': 'bilstm', 'units': '16'}
    """
    if not isinstance(text, str) or not text.strip():
        raise _spec_error("empty architecture string")
    layers: list[dict[str, Any]] = []
    head: dict[str, Any] | None = None
    linear: dict[str, Any] | None = None
    for position, item in enumerate(_split_items(text), start=1):
        head_part, *options = item.split(",")
        kind, *arguments = head_part.split(":")
        kind = kind.lower()
        canonical = _ALIASES.get(kind, kind)
        positional_kind = _BIDIRECTIONAL.get(canonical, canonical)
        if positional_kind not in _POSITIONAL:
            known = ", ".join(sorted({*_POSITIONAL, *_BIDIRECTIONAL}))
            raise _spec_error(f"unknown kind {kind!r} (known: {known})\n{COMPACT_HELP}",
                              f"item {position} {item!r}")
        names = _POSITIONAL[positional_kind]
        if len(arguments) > len(names):
            expected = ":".join([kind, *(name.upper() for name in names)])
            raise _spec_error(f"too many ':' values; expected {expected}",
                              f"item {position} {item!r}")
        entry: dict[str, Any] = {} if positional_kind in ("head", "linear") \
            else {"type": canonical}
        entry.update(zip(names, arguments))
        for option in options:
            key, equals, value = option.partition("=")
            if not equals or not key:
                raise _spec_error(f"expected KEY=VALUE after ',', not {option!r}",
                                  f"item {position} {item!r}")
            key = _KEY_ALIASES.get(key.lower(), key.lower().replace("-", "_"))
            entry[key] = _compact_value(value)
        if positional_kind == "head":
            if head is not None:
                raise _spec_error("more than one head", f"item {position} {item!r}")
            head = entry
        elif positional_kind == "linear":
            if linear is not None:
                raise _spec_error("more than one linear channel", f"item {position} {item!r}")
            linear = entry
        else:
            if head is not None:
                raise _spec_error("the head must be the last item", f"item {position} {item!r}")
            layers.append(entry)
    spec: dict[str, Any] = {"layers": layers}
    if head is not None:
        spec["head"] = head
    if linear is not None:
        spec["linear"] = linear
    return spec


def _compact_value(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return value


def to_compact(spec: dict[str, Any]) -> str:
    """A normalised spec back in compact syntax (defaults left out).

    >>> to_compact(normalize_spec("emb:32 lstm:64,dropout=0.2 lstm:32"))
    'emb:32 lstm:64,dropout=0.2 lstm:32'
    """
    spec = normalize_spec(spec)
    items = []
    for layer in spec["layers"]:
        kind = layer["type"]
        fields = LAYER_FIELDS[kind]
        positional = _POSITIONAL[kind]
        name = KINDS[kind].short or kind
        if kind in RECURRENT and layer["bidirectional"]:
            name = "bi" + ("rnn" if kind == "simplernn" else kind)
        values = [layer[p] for p in positional]
        # Trailing positional values that equal their default are left out ("dense:64").
        while kind != "pool" and values and fields.get(positional[len(values) - 1]) == values[-1]:
            values.pop()
        text = ":".join([name, *(_format_value(value) for value in values)])
        for key, default in fields.items():
            if key in positional or key == "bidirectional" or layer[key] == default:
                continue
            alias = {"mask_zero": "mask", "vectors_format": "format"}.get(key, key)
            text += f",{alias}={_format_value(layer[key])}"
        items.append(text)
    head = spec["head"]
    if head != HEAD_FIELDS:
        text = f"head:{head['activation']}"
        if head["units"] != "auto":
            text += f":{head['units']}"
        if head["separate_activation"]:
            text += ",separate=true"
        items.append(text)
    return " ".join(items)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---------------------------------------------------------------------------- files
def load_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a spec from a JSON file (an object or a list of layers) or a compact-syntax file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("architecture file not found", path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read the architecture file: {error}", path) from None
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            raw = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise DataError(f"not valid JSON ({error.msg})", path, error.lineno) from None
    else:
        raw = stripped
    try:
        return normalize_spec(raw)
    except UserError as error:
        raise DataError(str(error), path) from None


def ngram_assignment(spec: dict[str, Any], orders: list[int]) -> dict[int, int]:
    """Which ngram-emb item (its index in ``layers``) embeds each n-gram order of the data.

    Items with ``n=N`` take their order; the others share out the rest: one such item
    embeds every remaining order, several take one each in increasing n. Raises a UserError
    when the orders and the items do not fit.

    >>> ngram_assignment(normalize_spec("emb:8 ngram-emb:4 gru:4"), [2, 3])
    {2: 1, 3: 1}
    """
    items = [(index, layer) for index, layer in enumerate(spec["layers"])
             if layer["type"] == "ngram_embedding"]
    orders = sorted(orders)
    if not orders:
        if items:
            raise _spec_error("ngram-emb reads n-gram features: give --ngrams N (2 for "
                              "bigrams) or remove it")
        return {}
    if not items and spec.get("linear"):
        return {}  # the linear channel alone reads the n-gram streams
    if not items:
        raise _spec_error(f"the data has n-gram features ({', '.join(map(str, orders))}) but "
                          "the architecture does not read them: add ngram-emb:DIM after emb "
                          "(emb:64 ngram-emb:32 gru:64)")
    assignment: dict[int, int] = {}
    automatic = []
    for index, layer in items:
        if layer["n"] == "auto":
            automatic.append(index)
        elif layer["n"] not in orders:
            raise _spec_error(f"ngram-emb n={layer['n']} but the n-gram features are "
                              f"{', '.join(map(str, orders))} (--ngrams)")
        else:
            assignment[layer["n"]] = index
    remaining = [n for n in orders if n not in assignment]
    if len(automatic) == 1:
        assignment.update({n: automatic[0] for n in remaining})
    elif len(automatic) == len(remaining):
        assignment.update(zip(remaining, automatic))
    elif remaining and not automatic and spec.get("linear"):
        pass  # the linear channel alone reads the other orders
    elif automatic or remaining:
        raise _spec_error(f"{len(automatic)} ngram-emb items without n= for the n-gram "
                          f"orders {', '.join(map(str, remaining)) or 'none'}: give one item "
                          "for all, one per order, or n=N on each")
    return dict(sorted(assignment.items()))
