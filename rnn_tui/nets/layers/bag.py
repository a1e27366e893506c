"""``bag:MODE``: the text as a bag of words, the tutorials' ``texts_to_matrix`` input.

A Keras ``IntegerLookup`` over the ids 1..size-1 (the pad id 0 is its mask token, dropped;
column 0 is the out-of-vocabulary column, empty as the tutorials' column 0) turns each text
into one vector of vocabulary width: ``binary`` (1 where a word occurs), ``count`` (how many
times) or ``tfidf`` (count x idf, idf = log(1 + texts / (1 + texts with the word)) from the
training vocabulary; Keras' tf-idf, where the tutorials' Tokenizer takes 1 + log(count)).
Dense layers follow (``bag:binary dense:64 dropout:0.5 dense:64``): the vector has no time
axis. The tutorials' ``freq`` mode (count / text length) has no standard Keras layer, and
rnn-tui models are made of standard layers only (they load in safe mode): not offered.

>>> from rnn_tui.nets.spec import normalize_spec
>>> normalize_spec("bag:count dense:16")["layers"][0]
{'type': 'bag', 'mode': 'count'}
"""

from __future__ import annotations

import math
from typing import Any

from rnn_tui.errors import UserError
from rnn_tui.nets.layers.base import VECTOR, BuildContext, LayerKind, spec_error

MODES = {"binary": "multi_hot", "count": "count", "tfidf": "tf_idf"}  # ours -> Keras'
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


def build(context: BuildContext, layer: dict[str, Any], index: int) -> None:
    model_input = context.model_input
    size = model_input.vocab_size
    if model_input.kind != "tokens" or not size:
        raise UserError("architecture: a bag of words needs token ids and a vocabulary size")
    if size > MAX_BAG_VOCABULARY:
        raise UserError(f"architecture: a bag over {size:,} words is too wide; use at most "
                        f"{MAX_BAG_VOCABULARY:,} (--num-words)")
    options: dict[str, Any] = {}
    if layer["mode"] == "tfidf":
        options["idf_weights"] = idf_weights(context.vocabulary, size)
    context.tensor = context.layers_module.IntegerLookup(
        vocabulary=list(range(1, size)), mask_token=0, num_oov_indices=1,
        output_mode=MODES[layer["mode"]], name="bag", **options)(context.tensor)


def _first(layers: list[dict[str, Any]], index: int) -> None:
    if index != 0:
        raise spec_error("bag must be the first layer", f"layer {index + 1} (bag)")


KINDS = (
    LayerKind(
        "bag", {"mode": "binary"}, ("mode",), build, aliases=("bow", "bag-of-words"),
        help="""\
  bag:MODE            the text as one bag-of-words vector (texts_to_matrix): MODE is
                      binary, count or tfidf; Dense layers follow (bag:binary dense:64)""",
        is_input=True, gives=VECTOR, check=_first,
        choices={"mode": tuple(MODES)}),
)
