"""The layer kinds of an architecture spec, one module each, registered in one table.

Each module defines its kinds (``base.LayerKind``: fields, compact syntax, help, shape rules
and the Keras builder). ``spec`` (normalising, the compact syntax, its help) and ``build``
(the Keras model) loop over ``KINDS``; a new kind is a new module listed in ``MODULES``.
The runtime's side of a kind is ``rnn_tui.infer.layers``.

>>> list(KINDS)[:4]
['embedding', 'ngram_embedding', 'onehot', 'simplernn']
"""

from __future__ import annotations

from rnn_tui.nets.layers import (
    bag,
    convolution,
    dense,
    dropout,
    embedding,
    pooling,
    recurrent,
    transformer,
)
from rnn_tui.nets.layers.base import LayerKind

MODULES = (embedding, recurrent, convolution, dropout, pooling, dense, transformer, bag)
KINDS: dict[str, LayerKind] = {kind.name: kind for module in MODULES for kind in module.KINDS}

__all__ = ["KINDS", "MODULES", "LayerKind"]
