"""Corpora: the catalog, the data home (find, fetch, import) and one loader per corpus.

>>> from rnn_tui.data import corpus_names, load_corpus, load_padded
>>> corpus_names()
['imdb', 'reuters', 'nsmc', 'shopping', 'series', 'multiplication']
>>> corpus = load_corpus("reuters", split="modapte")
>>> corpus = load_corpus("reviews.csv", text_col="review", label_col="label")  # your own data
>>> padded = load_padded("imdb", num_words=10000, maxlen=200)
>>> padded.x_train.shape
(24996, 200)

Modules: ``catalog`` (what exists), ``store`` (the data home), ``stats`` (``data show``),
``imdb``, ``reuters``, ``nsmc``, ``shopping``, ``synthetic``, ``tabular`` (your own data),
``loading`` (``load_corpus``), ``padded`` (``load_padded``). Nothing here imports TensorFlow.
"""

from __future__ import annotations

from rnn_tui.data import catalog
from rnn_tui.data.corpus import Corpus, SourceInfo, Split
from rnn_tui.data.loading import corpus_loader, corpus_names, load_corpus
from rnn_tui.data.padded import PaddedCorpus, load_padded

__all__ = [
    "Corpus",
    "PaddedCorpus",
    "SourceInfo",
    "Split",
    "catalog",
    "corpus_loader",
    "corpus_names",
    "load_corpus",
    "load_padded",
]
