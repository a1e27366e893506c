"""The id streams a text model reads: its tokens, and n-grams of them, position by position.

A plain text model reads one stream, the token ids (``vocabulary.json``). With n-gram
features every position also carries the id of the n-gram ending there, each order from its
own vocabulary (``vocabulary-ngram2.json`` ...): one Keras input per stream ("tokens",
"ngrams2", ...). The text is tokenized once; stream n reads ``ngrams(tokens, n)``. Every
vocabulary has an OOV token, so every stream has exactly one id per token and position i of
each stream belongs to token i (an edit at the end of a text changes the last position's
ids in every stream, and nothing before it).

Ids of several streams are arrays of shape (tokens, streams), padded ones (rows, maxlen,
streams); a single stream keeps the plain shapes ((tokens,), (rows, maxlen)).

>>> from rnn_tui.text import Vocabulary
>>> features = TextFeatures.create(Vocabulary(num_words=50), orders=[2], words=[50])
>>> features = features.fit([["a", "good", "film"], ["a", "bad", "film"]])
>>> features.names, features.ids(["a", "good", "one"]).tolist()
(['tokens', 'ngrams2'], [[2, 2], [4, 3], [1, 1]])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.errors import DataError
from rnn_tui.text.padding import pad_sequences
from rnn_tui.text.vocabulary import Text, Vocabulary, ngrams

TOKENS = "tokens"
VOCABULARY_FILE = "vocabulary.json"
_STREAM_FILE = re.compile(r"vocabulary(?:-ngram([2-9]))?\.json")
MAX_NGRAM = 9


def stream_name(n: int) -> str:
    """The Keras input name of the stream of n-grams ("tokens" for n = 1).

    >>> stream_name(1), stream_name(2)
    ('tokens', 'ngrams2')
    """
    return TOKENS if n == 1 else f"ngrams{n}"


def stream_file(n: int) -> str:
    """The vocabulary file of a stream in a model's folder."""
    return VOCABULARY_FILE if n == 1 else f"vocabulary-ngram{n}.json"


@dataclass
class FeatureStream:
    """One stream: the n of its n-grams and its vocabulary."""

    n: int
    vocabulary: Vocabulary

    @property
    def name(self) -> str:
        return stream_name(self.n)

    @property
    def file(self) -> str:
        return stream_file(self.n)


class TextFeatures:
    """The streams of a text model; ``streams[0]`` is the tokens.

    Args:
        streams: the token stream first, then n-gram streams in increasing n; every
            vocabulary tokenizes alike (all settings but ``ngram`` and ``num_words`` equal).
    """

    def __init__(self, streams: Sequence[FeatureStream]):
        streams = list(streams)
        if not streams or streams[0].n != 1:
            raise ValueError("the first stream is the tokens (n = 1)")
        orders = [stream.n for stream in streams]
        if orders != sorted(set(orders)):
            raise ValueError(f"stream orders must increase without repeats, not {orders}")
        base = _tokenizing(streams[0].vocabulary)
        for stream in streams:
            if stream.vocabulary.ngram != stream.n:
                raise ValueError(f"the {stream.name} vocabulary has ngram "
                                 f"{stream.vocabulary.ngram}")
            if stream.n > 1 and _tokenizing(stream.vocabulary) != base:
                raise ValueError(f"the {stream.name} vocabulary tokenizes differently from "
                                 "the tokens' vocabulary")
        if len(streams) > 1 and streams[0].vocabulary.oov_token is None:
            raise ValueError("n-gram features need an OOV token in the tokens' vocabulary: "
                             "without one, unknown tokens are dropped and the streams no "
                             "longer line up")
        self.streams = streams

    # ------------------------------------------------------------------ making
    @classmethod
    def single(cls, vocabulary: Vocabulary) -> TextFeatures:
        return cls([FeatureStream(1, vocabulary)])

    @classmethod
    def create(cls, vocabulary: Vocabulary, orders: Sequence[int] = (),
               words: Sequence[int | None] = ()) -> TextFeatures:
        """Unfitted n-gram vocabularies beside ``vocabulary``: one per order in ``orders``,
        keeping ``words[i]`` ids (one number for all, or one per order)."""
        orders = list(orders)
        words = list(words) or [None]
        if len(words) == 1:
            words = words * len(orders)
        if len(words) != len(orders):
            raise ValueError(f"{len(orders)} n-gram orders but {len(words)} vocabulary sizes")
        streams = [FeatureStream(1, vocabulary)]
        for n, count in zip(orders, words):
            if not 2 <= n <= MAX_NGRAM:
                raise ValueError(f"n-gram orders are 2 to {MAX_NGRAM}, not {n}")
            streams.append(FeatureStream(n, vocabulary.with_ngram(n, count)))
        return cls(streams)

    def fit(self, token_lists: Sequence[Sequence[str]]) -> TextFeatures:
        """Fit every vocabulary on the same tokenized texts (the tokens' ``tokenize``)."""
        for stream in self.streams:
            stream.vocabulary.fit(token_lists)
        return self

    # ------------------------------------------------------------------ facts
    @property
    def vocabulary(self) -> Vocabulary:
        """The tokens' vocabulary (it also tokenizes for the other streams)."""
        return self.streams[0].vocabulary

    @property
    def count(self) -> int:
        return len(self.streams)

    @property
    def names(self) -> list[str]:
        return [stream.name for stream in self.streams]

    @property
    def sizes(self) -> list[int]:
        """Each stream's Embedding input_dim."""
        return [stream.vocabulary.size for stream in self.streams]

    @property
    def orders(self) -> list[int]:
        return [stream.n for stream in self.streams[1:]]

    # ------------------------------------------------------------------ text -> ids
    def tokenize(self, text: Text) -> list[str]:
        return self.vocabulary.tokenize(text)

    def tokenize_many(self, texts: Iterable[Text]) -> list[list[str]]:
        return self.vocabulary.tokenize_many(texts)

    def ids(self, tokens: Sequence[str]) -> np.ndarray | list[int]:
        """The ids of tokenized text: a list (one stream) or (tokens, streams) int64."""
        if self.count == 1:
            return self.vocabulary.tokens_to_ids(tokens)
        tokens = list(tokens)
        columns = [self.vocabulary.tokens_to_ids(tokens)]
        for stream in self.streams[1:]:
            vocabulary = stream.vocabulary
            columns.append(vocabulary.tokens_to_ids(ngrams(vocabulary._cut(tokens), stream.n)))
        result = np.zeros((len(tokens), self.count), np.int64)
        for index, column in enumerate(columns):
            result[:, index] = column
        return result

    def encode_tokens(self, token_lists: Sequence[Sequence[str]], *, maxlen: int | None,
                      padding: str = "post", truncating: str = "pre") -> np.ndarray:
        """Padded ids of tokenized texts: (rows, maxlen) or (rows, maxlen, streams) int32."""
        arrays = []
        for stream in self.streams:
            vocabulary = stream.vocabulary
            sequences = [vocabulary.tokens_to_ids(vocabulary._ngrams(vocabulary._cut(list(t))))
                         if stream.n > 1 else vocabulary.tokens_to_ids(t) for t in token_lists]
            arrays.append(pad_sequences(sequences, maxlen=maxlen, padding=padding,
                                        truncating=truncating))
        if self.count == 1:
            return arrays[0]
        width = max(array.shape[1] for array in arrays)
        if any(array.shape[1] != width for array in arrays):  # maxlen None: pad to the longest
            arrays = [pad_sequences(list(array), maxlen=width, padding=padding) for array in arrays]
        return np.stack(arrays, axis=-1)

    def encode(self, texts: Iterable[Text], *, maxlen: int | None, padding: str = "post",
               truncating: str = "pre") -> np.ndarray:
        """Texts -> padded ids (see ``encode_tokens``)."""
        return self.encode_tokens(self.tokenize_many(texts), maxlen=maxlen, padding=padding,
                                  truncating=truncating)

    # ------------------------------------------------------------------ files and cards
    def card_section(self) -> list[dict[str, Any]]:
        """The card's ``input.features``: each stream's input name, n and file."""
        return [{"name": stream.name, "n": stream.n, "file": stream.file,
                 "size": stream.vocabulary.size} for stream in self.streams]

    def save(self, folder: Path) -> list[str]:
        """Write every vocabulary into ``folder``; returns the file names."""
        for stream in self.streams:
            stream.vocabulary.save(Path(folder) / stream.file)
        return [stream.file for stream in self.streams]

    @classmethod
    def load(cls, folder: Path, section: Any = None) -> TextFeatures:
        """The streams of a model folder: ``section`` is the card's ``input.features``
        (None: one stream, vocabulary.json). File names are checked (a card cannot point
        outside the folder) and symbolic links refused."""
        folder = Path(folder)
        if section is None:
            entries = [{"name": TOKENS, "n": 1, "file": VOCABULARY_FILE}]
        elif isinstance(section, list) and section:
            entries = section
        else:
            raise DataError("input.features must be a non-empty list", folder / "card.json")
        streams = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise DataError("every input.features entry must be an object",
                                folder / "card.json")
            n, file = entry.get("n"), entry.get("file")
            match = _STREAM_FILE.fullmatch(file) if isinstance(file, str) else None
            if match is None or int(match.group(1) or 1) != n or \
                    entry.get("name") != stream_name(n):
                raise DataError(f"input.features entry {entry!r} is not a known stream "
                                "(tokens in vocabulary.json, ngramsN in vocabulary-ngramN.json)",
                                folder / "card.json")
            path = folder / file
            if path.is_symlink():
                raise DataError(f"{file} is a symbolic link; refusing to follow it out of the "
                                "model's folder", path)
            streams.append(FeatureStream(n, Vocabulary.load(path)))
        try:
            return cls(streams)
        except ValueError as error:
            raise DataError(f"the vocabularies do not fit together: {error}", folder) from None


def _tokenizing(vocabulary: Vocabulary) -> dict[str, Any]:
    """The settings that decide the tokens (all but the n-gram order and the size)."""
    config = vocabulary.config()
    config.pop("ngram")
    config.pop("num_words")
    return config
