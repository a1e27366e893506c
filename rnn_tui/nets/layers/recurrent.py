"""Recurrent layers: ``simplernn``, ``lstm``, ``gru`` and their Bidirectional forms
(``bilstm`` ...). ``return_sequences`` is never written: a layer returns its whole sequence
exactly when the next layer (skipping plain dropout) consumes one. Before a pool with
``last`` the layer is built with ``return_state=True`` and its final ``h`` is pooled."""

from __future__ import annotations

from typing import Any

from rnn_tui.nets.layers.base import REQUIRED, SEQUENCE, BuildContext, LayerKind

RECURRENT = ("simplernn", "lstm", "gru")
KERAS_RNN = {"simplernn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
# compact names that mean the Bidirectional form of a kind
BIDIRECTIONAL = {"birnn": "simplernn", "bisimplernn": "simplernn", "bilstm": "lstm",
                 "bigru": "gru"}
FIELDS = {"units": REQUIRED, "dropout": 0.0, "recurrent_dropout": 0.0, "bidirectional": False}


def build(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    body = context.body
    kind = layer["type"]
    following = body[index + 1] if index + 1 < len(body) else None
    with_state = following is not None and following["type"] == "pool" \
        and "last" in following["mode"].split("+")
    recurrent = _recurrent(context.layers_module, layer, context.sequences[index],
                           context.next_name(kind), return_state=with_state)
    if with_state:
        context.tensor, context.state, *_ = recurrent(context.tensor)  # an LSTM's c: unused
    else:
        context.tensor = recurrent(context.tensor)


def _recurrent(layers_module, layer, sequences, name, return_state=False):
    kind = layer["type"]
    cell_class = getattr(layers_module, KERAS_RNN[kind])
    recurrent = cell_class(layer["units"], dropout=layer["dropout"],
                           recurrent_dropout=layer["recurrent_dropout"],
                           return_sequences=sequences, return_state=return_state, name=name)
    if not layer["bidirectional"]:
        return recurrent
    return layers_module.Bidirectional(recurrent, merge_mode="concat", name=f"bi{name}")


_HELP = """\
  simplernn:U lstm:U gru:U    recurrent layers (keys: dropout=R, rd=R recurrent dropout)
  birnn:U bilstm:U bigru:U    the same, Bidirectional (outputs concatenated)"""

KINDS = (
    LayerKind("simplernn", dict(FIELDS), ("units",), build,
              aliases=("rnn", "simple_rnn", "simple-rnn"), help=_HELP, takes=SEQUENCE),
    LayerKind("lstm", dict(FIELDS), ("units",), build, takes=SEQUENCE),
    LayerKind("gru", dict(FIELDS), ("units",), build, takes=SEQUENCE),
)
