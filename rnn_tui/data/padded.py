"""``load_padded``: a corpus as padded id arrays in one call, the tutorials' usual first cell.

>>> padded = load_padded("nsmc", num_words=20000, maxlen=25, cleaner="clean_str")
>>> padded.x_train.dtype, padded.x_train.shape[1], padded.vocabulary.size
(dtype('int32'), 25, 20000)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.data.corpus import Corpus
from rnn_tui.errors import UserError
from rnn_tui.text.vocabulary import Vocabulary


@dataclass
class PaddedCorpus:
    """Model-ready arrays of a corpus.

    For text corpora ``x_*`` are int32 id arrays of shape (samples, maxlen) and
    ``vocabulary`` made them (fitted on the training texts only). For the synthetic tasks
    ``x_*`` are the float32 features (samples, timesteps, channels) and ``vocabulary`` is None.
    ``y_*`` are the labels: int64 class ids or float32 targets.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocabulary: Vocabulary | None
    corpus: Corpus
    maxlen: int | None = None
    x_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None


def load_padded(
    name_or_path: str | Path,
    *,
    num_words: int | None = None,
    maxlen: int | None = None,
    padding: str = "post",
    truncating: str = "pre",
    level: str = "word",
    oov_token: str | None = "<OOV>",
    cleaner: str | None = None,
    **corpus_options: Any,
) -> PaddedCorpus:
    """Load a corpus, fit a vocabulary on its training texts, and pad every split.

    Args:
        name_or_path, **corpus_options: as for :func:`rnn_tui.data.load_corpus`.
        num_words: keep the ``num_words - 1`` most frequent tokens (Keras' convention).
        maxlen: the padded length; None means the longest *training* sequence (test
            sequences are cut or padded to the same length, so the arrays fit one model).
        padding, truncating: "pre" or "post", as in ``keras.utils.pad_sequences``.
        level, oov_token, cleaner: the :class:`~rnn_tui.text.Vocabulary` settings
            (``cleaner`` is a name from ``rnn_tui.text.cleaning``: "html", "clean_str",
            "korean_only"; None for none).

    >>> load_padded("imdb", num_words=10000, maxlen=200).x_test.shape
    (24996, 200)
    """
    from rnn_tui.data.loading import load_corpus

    corpus = load_corpus(name_or_path, **corpus_options)
    if not corpus.is_text:
        return PaddedCorpus(
            x_train=corpus.train.features,
            y_train=corpus.train.labels,
            x_test=corpus.test.features,
            y_test=corpus.test.labels,
            vocabulary=None,
            corpus=corpus,
            maxlen=corpus.train.features.shape[1],
            x_validation=corpus.validation.features if corpus.validation else None,
            y_validation=corpus.validation.labels if corpus.validation else None,
        )
    try:
        vocabulary = Vocabulary(
            level=level, num_words=num_words, oov_token=oov_token, cleaner=cleaner or "none"
        )
    except ValueError as error:
        raise UserError(str(error)) from None
    for name, value in (("padding", padding), ("truncating", truncating)):
        if value not in ("pre", "post"):
            raise UserError(f'{name} must be "pre" or "post", not {value!r}')
    if maxlen is not None and maxlen < 1:
        raise UserError(f"maxlen must be at least 1, not {maxlen}")
    vocabulary.fit(corpus.train.texts)
    if maxlen is None:
        lengths = (
            len(vocabulary.tokens_to_ids(vocabulary.tokenize(text))) for text in corpus.train.texts
        )
        maxlen = max(lengths, default=0) or 1

    def pad(texts: list[str]) -> np.ndarray:
        # encode() converts and pads a chunk at a time: no corpus-sized lists of ids
        return vocabulary.encode(texts, maxlen=maxlen, padding=padding, truncating=truncating)

    validation = corpus.validation
    return PaddedCorpus(
        x_train=pad(corpus.train.texts),
        y_train=corpus.train.labels,
        x_test=pad(corpus.test.texts),
        y_test=corpus.test.labels,
        vocabulary=vocabulary,
        corpus=corpus,
        maxlen=maxlen,
        x_validation=pad(validation.texts) if validation else None,
        y_validation=validation.labels if validation else None,
    )
