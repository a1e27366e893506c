"""``transformer:HEADS:KEY_DIM``: a Transformer encoder block (Vaswani et al. 2017, post-norm).

Self-attention with HEADS heads of size KEY_DIM, added to its input and layer-normalised,
then a feed-forward pair (Dense ``ff`` relu, Dense back to the input's width), added and
normalised again. Only standard Keras layers (MultiHeadAttention, Add, LayerNormalization,
Dense), so the model loads in safe mode; the runtime's side is ``infer/layers/transformer.py``.
The pads are masked out of the attention when the embedding masks them (post padding).

There is no positional encoding: on embeddings alone the block sees a bag of words (with
context); after a recurrent layer (``emb:64 gru:64 transformer:2:16 pool:average``) the
positions are in the recurrent outputs already.

>>> from rnn_tui.nets.spec import normalize_spec
>>> normalize_spec("emb:16 transformer:2:8,ff=32 pool:average")["layers"][1]
{'type': 'transformer', 'heads': 2, 'key_dim': 8, 'ff': 32, 'dropout': 0.0}
"""

from __future__ import annotations

from typing import Any

from rnn_tui.nets.layers.base import REQUIRED, SEQUENCE, BuildContext, LayerKind, as_int

EPSILON = 1e-6


def build(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    layers_module = context.layers_module
    name = context.next_name("transformer")
    inputs = context.tensor
    width = int(inputs.shape[-1])
    attention = layers_module.MultiHeadAttention(
        num_heads=layer["heads"], key_dim=layer["key_dim"], dropout=layer["dropout"],
        name=f"{name}_attention")(inputs, inputs)
    tensor = layers_module.Add(name=f"{name}_add_1")([inputs, attention])
    tensor = layers_module.LayerNormalization(epsilon=EPSILON, name=f"{name}_norm_1")(tensor)
    hidden = layers_module.Dense(layer["ff"], activation="relu", name=f"{name}_ff_1")(tensor)
    hidden = layers_module.Dense(width, name=f"{name}_ff_2")(hidden)
    tensor = layers_module.Add(name=f"{name}_add_2")([tensor, hidden])
    context.tensor = layers_module.LayerNormalization(epsilon=EPSILON,
                                                      name=f"{name}_norm_2")(tensor)


KINDS = (
    LayerKind(
        "transformer", {"heads": REQUIRED, "key_dim": REQUIRED, "ff": 64, "dropout": 0.0},
        ("heads", "key_dim"), build, aliases=("encoder",),
        help="""\
  transformer:H:K     a Transformer encoder block: self-attention with H heads of size K,
                      add & norm, feed-forward, add & norm (keys: ff=N its width, 64 by
                      default; dropout=R on the attention weights). No positional
                      encoding: after emb it reads a bag of words in context""",
        takes=SEQUENCE, gives=SEQUENCE,
        parsers={"heads": as_int, "key_dim": as_int, "ff": as_int}),
)
