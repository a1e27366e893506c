"""``pool:MODES`` (GlobalMaxPooling1D, GlobalAveragePooling1D and/or the last state,
concatenated in the order max, average, last) and ``flatten``."""

from __future__ import annotations

from typing import Any

from rnn_tui.nets.layers.base import SEQUENCE, VECTOR, BuildContext, LayerKind, spec_error
from rnn_tui.nets.layers.recurrent import RECURRENT

POOL_MODES = ("max", "average", "last")


def build_pool(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    layers_module = context.layers_module
    pooled = []
    for mode in layer["mode"].split("+"):
        if mode == "max":
            # Keras' max ignores the mask (and says so). Not made mask-aware: after a
            # post-padded RNN the masked steps repeat the last output, so the max is the
            # masked max already; the runtime mirrors Keras exactly, and a custom layer
            # would change every trained model and their safe-mode loading.
            pooled.append(layers_module.GlobalMaxPooling1D(
                name=context.next_name("global_max_pooling1d"))(context.tensor))
        elif mode == "average":
            pooled.append(layers_module.GlobalAveragePooling1D(
                name=context.next_name("global_average_pooling1d"))(context.tensor))
        else:  # last: the state the recurrent layer before returned
            pooled.append(context.state)
    # With n-gram streams Keras merges their masks with ops it names "concatenate_<n>"
    # itself, so the pools' layer takes another name.
    context.tensor = pooled[0] if len(pooled) == 1 else layers_module.Concatenate(
        name=context.next_name("concatenate_pools" if context.stream_inputs
                               else "concatenate"))(pooled)


def build_flatten(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    context.tensor = context.layers_module.Flatten(
        name=context.next_name("flatten"))(context.tensor)


def pool_mode(value: Any, where: str) -> str:
    """Pooling modes joined by "+" in the order max, average, last (also "avg", "mean",
    "state" and "," as the separator): "max", "max+average", "max+average+last" ..."""
    wrong = f"pool mode must be max, average, last or a combination such as max+average+last, " \
        f"not {value!r}"
    if not isinstance(value, str) or not value:
        raise spec_error(wrong, where)
    parts = []
    for part in value.lower().replace(",", "+").split("+"):
        part = {"avg": "average", "mean": "average", "state": "last"}.get(part, part)
        if part not in POOL_MODES:
            raise spec_error(wrong, where)
        if part not in parts:
            parts.append(part)
    if parts == ["last"]:
        raise spec_error(
            "the last state alone is what a recurrent layer gives without a pool: drop the "
            "pool item (last combines with max and average: pool:max+average+last)", where)
    return "+".join(p for p in POOL_MODES if p in parts)


def _last_after_recurrent(layers: list[dict[str, Any]], index: int) -> None:
    if "last" in layers[index]["mode"].split("+"):
        source = layers[index - 1] if index else None
        if source is None or source["type"] not in RECURRENT or source["bidirectional"]:
            raise spec_error(
                "pooling the last state needs the pool right after a unidirectional "
                "recurrent layer (gru:64 pool:max+average+last)", f"layer {index + 1} (pool)")


KINDS = (
    LayerKind("pool", {"mode": "max"}, ("mode",), build_pool,
              help="""\
  pool:MODES          pooling over time after the last recurrent layer: max, average,
                      or a combination with + (max+average, max+average+last: last is
                      the final state, concatenated with the pools; needs the pool right
                      after a unidirectional recurrent layer)""",
              takes=SEQUENCE, gives=VECTOR, check=_last_after_recurrent),
    LayerKind("flatten", {}, (), build_flatten,
              help="  flatten             Flatten (Embedding + Flatten + Dense baseline)",
              takes=SEQUENCE, gives=VECTOR, carries_mask=False),
)
