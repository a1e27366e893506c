"""``bag:MODE``: the text as a bag of words, the tutorials' ``texts_to_matrix`` input.

A Keras ``IntegerLookup`` over the ids 1..size-1 (the pad id 0 is its mask token, dropped;
column 0 is the out-of-vocabulary column, empty as the tutorials' column 0) turns each text
into one vector of vocabulary width, as the tutorials' ``Tokenizer.texts_to_matrix(mode=)``:

- ``binary``: 1 where a word occurs;
- ``count``: how many times it occurs;
- ``freq``: count / the text's number of tokens (pads not counted);
- ``tfidf``: (1 + log count) x idf where count > 0, else 0, with idf = log(1 + texts /
  (1 + texts with the word)) from the training vocabulary.

``freq`` and ``tfidf`` are the lookup's counts followed by a few of Keras' own ops (sum,
maximum, divide; minimum, log, add, multiply by the idf): no standard layer computes them
(Keras' ``tf_idf`` is count x idf), and ops, unlike a Lambda or a custom layer, are saved as
data and load in safe mode. Dense layers follow (``bag:binary dense:64 dropout:0.5
dense:64``): the vector has no time axis. The model reads the text as padded to maxlen, so a
longer text is counted up to its truncation (``texts_to_matrix`` counts all of it).

>>> from rnn_tui.nets.spec import normalize_spec
>>> normalize_spec("bag:count dense:16")["layers"][0]
{'type': 'bag', 'mode': 'count'}
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnn_tui.errors import UserError
from rnn_tui.nets.layers.base import VECTOR, BuildContext, LayerKind, spec_error

# ours -> the lookup's output_mode (freq and tfidf are computed from its counts)
MODES = {"binary": "multi_hot", "count": "count", "tfidf": "count", "freq": "count"}
# Past this width the vector (and the Dense after it) is unreasonably large.
MAX_BAG_VOCABULARY = 100_000


def idf_weights(vocabulary: Any, size: int) -> list[float]:
    """Per id 1..size-1: log(1 + texts / (1 + texts with that word)), as the tutorials'
    Tokenizer computes its idf (``text.Vocabulary.sequences_to_matrix``)."""
    documents = getattr(vocabulary, "document_count", 0)
    if not documents:
        raise UserError("architecture: bag:tfidf needs the training texts' document "
                        "frequencies (a vocabulary fitted on them)")
    index_docs = {vocabulary.word_index[word]: count
                  for word, count in vocabulary.word_docs.items()
                  if word in vocabulary.word_index}
    return [math.log(1 + documents / (1 + index_docs.get(column, 0)))
            for column in range(1, size)]


def frequencies(ops: Any, counts: Any) -> Any:
    """count / the number of tokens (the counts' sum; an empty text stays all zeros)."""
    return ops.divide(counts, ops.maximum(ops.sum(counts, axis=-1, keepdims=True), 1.0))


def tutorial_tf_idf(ops: Any, counts: Any, idf: list[float]) -> Any:
    """(1 + log count) x idf where count > 0, else 0: min(count, 1) + log(max(count, 1)) is
    1 + log(count) for a count of 1 or more and 0 for none, with no log(0) on the way.
    Column 0 (out of vocabulary, never filled by the tutorials) gets idf 0."""
    tf = ops.add(ops.minimum(counts, 1.0), ops.log(ops.maximum(counts, 1.0)))
    return ops.multiply(tf, np.asarray([0.0, *idf], np.float32))


def build(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    from rnn_tui.backend import keras as get_keras

    model_input = context.model_input
    size = model_input.vocab_size
    if model_input.kind != "tokens" or not size:
        raise UserError("architecture: a bag of words needs token ids and a vocabulary size")
    if size > MAX_BAG_VOCABULARY:
        raise UserError(f"architecture: a bag over {size:,} words is too wide; use at most "
                        f"{MAX_BAG_VOCABULARY:,} (--num-words)")
    mode = layer["mode"]
    idf = idf_weights(context.vocabulary, size) if mode == "tfidf" else None
    bag = context.layers_module.IntegerLookup(
        vocabulary=list(range(1, size)), mask_token=0, num_oov_indices=1,
        output_mode=MODES[mode], name="bag")(context.tensor)
    ops = get_keras().ops
    if mode == "freq":
        bag = frequencies(ops, bag)
    elif mode == "tfidf":
        bag = tutorial_tf_idf(ops, bag, idf)
    context.tensor = bag


def _first(layers: list[dict[str, Any]], index: int) -> None:
    if index != 0:
        raise spec_error("bag must be the first layer", f"layer {index + 1} (bag)")


KINDS = (
    LayerKind(
        "bag", {"mode": "binary"}, ("mode",), build, aliases=("bow", "bag-of-words"),
        help="""\
  bag:MODE            the text as one bag-of-words vector (texts_to_matrix): MODE is
                      binary, count, tfidf or freq; Dense layers follow (bag:tfidf dense:64)""",
        is_input=True, gives=VECTOR, check=_first,
        choices={"mode": tuple(MODES)}),
)
