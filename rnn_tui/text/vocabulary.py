"""A vocabulary that does the job of Keras 2's ``Tokenizer`` (removed from Keras 3).

Same semantics, so the tutorials' recipes carry over unchanged:

- ids start at 1 (0 is padding); words are ranked by frequency, ties in first-seen order;
  with an ``oov_token`` it takes id 1;
- ``num_words`` keeps ids below ``num_words`` only: rarer words map to the OOV id, or are
  dropped when there is no OOV token;
- a text given as a list of tokens is used as is (lowercased), as Keras did.

On top of that: char level, Korean morphemes (kiwipiepy), a regex tokenizer, named cleaning
steps, cutting tokens to N characters (the NSMC tutorial's ``word[:5]``), squeezing runs of a
repeated character, Hangul words split into stem + ``##suffix``, a word-boundary token at
char level, n-gram streams, and JSON in/out (never pickle), so a saved model carries its own
preprocessing.

N-grams (``ngram=n``): each position's token becomes the n-gram ending there, its tokens
joined by " " and padded with "<s>" at the start ("<s> the", "the film", ...). An n-gram
vocabulary is a Vocabulary with the same tokenization settings, ``ngram=n`` and its own
``num_words``; position i of every stream belongs to token i, so a model can read the word
and the bigram ending at each position side by side (``rnn_tui.text.features``).

>>> vocabulary = Vocabulary(num_words=10, oov_token="<OOV>").fit(
...     ["You are the Best", "You are the Nice"])
>>> vocabulary.texts_to_sequences(["You are the One"])
[[2, 3, 4, 1]]
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.errors import DataError
from rnn_tui.text.cleaning import get_cleaner
from rnn_tui.text.padding import pad_sequences

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
FORMAT = "rnn-tui-vocabulary"
_MORPHEME_BATCH = 1000  # texts per Kiwi call when streaming
_ENCODE_CHUNK = 4096  # texts padded at a time by encode(maxlen=...)
FORMAT_VERSION = 1
LEVELS = ("word", "char", "morpheme")
NGRAM_START = "<s>"  # stands before the first token in an n-gram
_REPEATS = re.compile(r"(.)\1{2,}")  # 3+ of one character (squeeze_repeats keeps two)
_HANGUL_WORD = re.compile(r"[가-힣]+")  # a word of Hangul syllables only (subword_suffix)

Text = str | Sequence[str]


@dataclass
class Vocabulary:
    """Text -> ids. See the module docstring for the semantics.

    Args:
        level: "word" (split on ``split`` after removing ``filters``, or ``pattern``), "char"
            (every character; Keras applied no filters at char level), or "morpheme"
            (Korean morphemes by kiwipiepy).
        num_words: keep the ``num_words - 1`` most frequent tokens (Keras' convention);
            None keeps all.
        oov_token: the token that stands for unknown words (id 1), or None to drop them.
        lower: lowercase before tokenizing.
        filters: characters replaced by ``split`` before splitting (word level).
        split: the separator for word level.
        pattern: a regex; when set, word-level tokens are ``re.findall(pattern, text)``
            instead of filters + split (lets "!" and "?" be tokens, for example).
        cleaner: a named cleaning step (see ``rnn_tui.text.cleaning``) applied first.
        max_token_chars: cut every token to this many characters.
        morpheme_tags: at morpheme level, tokens are "form/TAG".
        ngram: 1 (plain tokens) or n: each position's token becomes the n-gram ending there
            (see the module docstring). Needs an ``oov_token``, so that no position is
            dropped and the streams of one text stay aligned.
        squeeze_repeats: runs of 3 or more of one character become 2 ("ㅋㅋㅋㅋ" -> "ㅋㅋ",
            "!!!!" -> "!!"), after lowercasing.
        subword_suffix: at word level, a token of 2 or more Hangul syllables is split into
            its stem and "##" + its last ``min(subword_suffix, len - 1)`` syllables
            ("재미있다" -> "재미있", "##다" with 1; "재미", "##있다" with 2).
        space_token: at char level, every run of whitespace becomes this one token and
            leading/trailing whitespace is dropped (syllables with a word boundary, "▁").
    """

    level: str = "word"
    num_words: int | None = None
    oov_token: str | None = "<OOV>"
    lower: bool = True
    filters: str = KERAS_FILTERS
    split: str = " "
    pattern: str | None = None
    cleaner: str = "none"
    max_token_chars: int | None = None
    morpheme_tags: bool = False
    ngram: int = 1
    squeeze_repeats: bool = False
    subword_suffix: int = 0
    space_token: str | None = None
    word_index: dict[str, int] = field(default_factory=dict)
    word_counts: dict[str, int] = field(default_factory=dict)
    word_docs: dict[str, int] = field(default_factory=dict)
    document_count: int = 0

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {self.level!r}")
        if self.num_words is not None and self.num_words < 1:
            raise ValueError(f"num_words must be at least 1, not {self.num_words}")
        if self.max_token_chars is not None and self.max_token_chars < 1:
            raise ValueError(f"max_token_chars must be at least 1, not {self.max_token_chars}")
        if isinstance(self.ngram, bool) or not isinstance(self.ngram, int) or self.ngram < 1:
            raise ValueError(f"ngram must be a whole number >= 1, not {self.ngram!r}")
        if self.ngram > 1 and self.oov_token is None:
            raise ValueError("n-gram features need an OOV token: without one, unknown tokens "
                             "are dropped and the streams of a text no longer line up")
        if isinstance(self.subword_suffix, bool) or not isinstance(self.subword_suffix, int) \
                or self.subword_suffix < 0:
            raise ValueError(f"subword_suffix must be 0, 1 or 2, not {self.subword_suffix!r}")
        if self.subword_suffix and self.level != "word":
            raise ValueError("subword_suffix splits words: it needs level 'word'")
        if self.space_token is not None and (self.level != "char" or not self.space_token):
            raise ValueError("space_token marks word boundaries between characters: it needs "
                             "level 'char' and a non-empty token")
        self._clean = get_cleaner(self.cleaner)
        self._pattern = re.compile(self.pattern) if self.pattern else None
        self._translation = str.maketrans({c: self.split for c in self.filters})

    # ------------------------------------------------------------------ tokenizing
    def tokenize(self, text: Text) -> list[str]:
        """The tokens of one text, exactly as ``fit`` and ``texts_to_sequences`` see them.

        A list of tokens is taken as the text's tokens (lowercased and cut as configured; with
        ``ngram`` > 1 they become n-grams).
        """
        if not isinstance(text, str):
            tokens = [t.lower() for t in text] if self.lower else list(text)
            return self._ngrams(self._cut(tokens))
        text = self._normalize(text)
        if self.level == "char":
            if self.space_token is None:
                tokens = list(text)
            else:
                tokens = []
                for word in text.split():
                    if tokens:
                        tokens.append(self.space_token)
                    tokens.extend(word)
        elif self.level == "morpheme":
            from rnn_tui.text.korean import morphemes

            tokens = morphemes(text, with_tags=self.morpheme_tags)
        elif self._pattern is not None:
            tokens = self._pattern.findall(text)
        else:
            tokens = [t for t in text.translate(self._translation).split(self.split) if t]
        return self._finish(tokens)

    def tokenize_many(self, texts: Iterable[Text]) -> list[list[str]]:
        """Tokenize many texts; at morpheme level Kiwi processes them as one batch."""
        texts = list(texts)
        if self.level != "morpheme" or not all(isinstance(t, str) for t in texts):
            return [self.tokenize(t) for t in texts]
        from rnn_tui.text.korean import morphemes_many

        cleaned = [self._normalize(t) for t in texts]
        return [self._finish(tokens) for tokens in morphemes_many(cleaned, self.morpheme_tags)]

    def _normalize(self, text: str) -> str:
        """Cleaning, lowercasing and squeezing: the text as the tokenizer reads it."""
        text = self._clean(text)
        if self.lower:
            text = text.lower()
        if self.squeeze_repeats:
            text = _REPEATS.sub(r"\1\1", text)
        return text

    def _finish(self, tokens: list[str]) -> list[str]:
        """Subword splits, the cut to max_token_chars, n-grams: in that order."""
        if self.subword_suffix:
            tokens = split_suffixes(tokens, self.subword_suffix)
        return self._ngrams(self._cut(tokens))

    def _ngrams(self, tokens: list[str]) -> list[str]:
        return ngrams(tokens, self.ngram) if self.ngram > 1 else tokens

    def _token_stream(self, texts: Iterable[Text]) -> Iterator[list[str]]:
        """Tokens text by text, without holding every text's tokens at once.

        Morphemes go to Kiwi in batches (it is much faster on many texts at a time).
        """
        if self.level != "morpheme":
            for text in texts:
                yield self.tokenize(text)
            return
        batch: list[Text] = []
        for text in texts:
            batch.append(text)
            if len(batch) == _MORPHEME_BATCH:
                yield from self.tokenize_many(batch)
                batch = []
        if batch:
            yield from self.tokenize_many(batch)

    def _cut(self, tokens: list[str]) -> list[str]:
        if self.max_token_chars is None:
            return tokens
        return [t[: self.max_token_chars] for t in tokens]

    # ------------------------------------------------------------------ fitting
    def fit(self, texts: Iterable[Text]) -> Vocabulary:
        """Count tokens and rank them (Keras' ``fit_on_texts``); can be called repeatedly."""
        counts = Counter(self.word_counts)
        docs = Counter(self.word_docs)
        for tokens in self._token_stream(texts):
            self.document_count += 1
            counts.update(tokens)
            docs.update(set(tokens))
        self.word_counts = dict(counts)
        self.word_docs = dict(docs)
        # sorted() is stable, so equally frequent words keep their first-seen order.
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        words = [self.oov_token] if self.oov_token is not None else []
        words.extend(word for word, _ in ranked if word != self.oov_token)
        self.word_index = {word: index for index, word in enumerate(words, start=1)}
        return self

    @property
    def oov_index(self) -> int | None:
        return self.word_index.get(self.oov_token) if self.oov_token is not None else None

    @property
    def size(self) -> int:
        """The Embedding ``input_dim`` this vocabulary needs (ids are < size)."""
        if self.num_words:
            return min(self.num_words, len(self.word_index) + 1)
        return len(self.word_index) + 1

    @property
    def index_word(self) -> dict[int, str]:
        return {index: word for word, index in self.word_index.items()}

    # ------------------------------------------------------------------ converting
    def _id_lookup(self) -> dict[str, int]:
        """token -> id for the ids that ``num_words`` keeps, cached until the index changes.

        The cache holds the ``word_index`` object it was built from: ``fit`` and ``from_dict``
        assign a new dict, which invalidates it (so does adding or removing an entry).
        """
        cached = self.__dict__.get("_lookup_cache")
        if (
            cached is not None
            and cached[0] is self.word_index
            and cached[1] == len(self.word_index)
            and cached[2] == self.num_words
        ):
            return cached[3]
        if self.num_words:
            lookup = {w: i for w, i in self.word_index.items() if i < self.num_words}
        else:
            lookup = self.word_index
        self.__dict__["_lookup_cache"] = (self.word_index, len(self.word_index), self.num_words, lookup)
        return lookup

    def tokens_to_ids(self, tokens: Iterable[str]) -> list[int]:
        """Ids of tokens: rare (>= num_words) and unknown ones become the OOV id, or are
        dropped without an OOV token (Keras' rules)."""
        lookup = self._id_lookup()
        oov = self.oov_index
        if oov is None:
            return [index for index in map(lookup.get, tokens) if index is not None]
        get = lookup.get
        return [get(token, oov) for token in tokens]

    def texts_to_sequences(self, texts: Iterable[Text]) -> list[list[int]]:
        """Each text as a list of ids (Keras' ``texts_to_sequences``)."""
        return [self.tokens_to_ids(tokens) for tokens in self._token_stream(texts)]

    def encode(
        self,
        texts: Iterable[Text],
        maxlen: int | None = None,
        padding: str = "pre",
        truncating: str = "pre",
    ) -> np.ndarray:
        """Texts as one padded int32 array: ``texts_to_sequences`` then ``pad_sequences``.

        With a ``maxlen`` the texts are converted and padded a chunk at a time, so the id
        lists of a whole corpus never sit in memory together.
        """
        if maxlen is None:
            sequences = self.texts_to_sequences(texts)
            return pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating)
        chunks = []
        sequences = []
        for tokens in self._token_stream(texts):
            sequences.append(self.tokens_to_ids(tokens))
            if len(sequences) == _ENCODE_CHUNK:
                chunks.append(pad_sequences(sequences, maxlen, padding=padding, truncating=truncating))
                sequences = []
        chunks.append(pad_sequences(sequences, maxlen, padding=padding, truncating=truncating))
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    def sequences_to_matrix(self, sequences: Sequence[Sequence[int]], mode: str = "binary"):
        """One row per sequence over the vocabulary: binary, count, freq or tfidf.

        Same as Keras' ``sequences_to_matrix``: width ``num_words`` (or vocabulary + 1).
        """
        if mode not in ("binary", "count", "freq", "tfidf"):
            raise ValueError(f"unknown mode {mode!r} (binary, count, freq, tfidf)")
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("the vocabulary is empty: fit it or give num_words")
        matrix = np.zeros((len(sequences), width))
        index_docs = {self.word_index[w]: c for w, c in self.word_docs.items() if w in self.word_index}
        for row, sequence in enumerate(sequences):
            if not len(sequence):
                continue
            counts = Counter(int(i) for i in sequence if int(i) < width)
            for column, count in counts.items():
                if mode == "binary":
                    matrix[row, column] = 1
                elif mode == "count":
                    matrix[row, column] = count
                elif mode == "freq":
                    matrix[row, column] = count / len(sequence)
                else:
                    idf = math.log(1 + self.document_count / (1 + index_docs.get(column, 0)))
                    matrix[row, column] = (1 + math.log(count)) * idf
        return matrix

    # ------------------------------------------------------------------ JSON
    _CONFIG_FIELDS = (
        "level", "num_words", "oov_token", "lower", "filters", "split", "pattern", "cleaner",
        "max_token_chars", "morpheme_tags", "ngram", "squeeze_repeats", "subword_suffix",
        "space_token",
    )
    # Settings added after format version 1 was fixed: written only when they differ from
    # their default, so a vocabulary that does not use them stays readable by older rnn-tui.
    _LATER_DEFAULTS = {"ngram": 1, "squeeze_repeats": False, "subword_suffix": 0,
                       "space_token": None}

    # What a saved setting may be (a hand-edited or damaged file is refused when read, not
    # when a text is first tokenized).
    _CONFIG_TYPES = {
        "level": (str,), "num_words": (int, type(None)), "oov_token": (str, type(None)),
        "lower": (bool,), "filters": (str,), "split": (str,), "pattern": (str, type(None)),
        "cleaner": (str,), "max_token_chars": (int, type(None)), "morpheme_tags": (bool,),
        "ngram": (int,), "squeeze_repeats": (bool,), "subword_suffix": (int,),
        "space_token": (str, type(None)),
    }

    def config(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._CONFIG_FIELDS}

    def with_ngram(self, n: int, num_words: int | None) -> Vocabulary:
        """An unfitted vocabulary of the n-grams of this one's tokens (same tokenization).

        >>> Vocabulary(pattern=r"\\w+").with_ngram(2, 1000).tokenize("a good film")
        ['<s> a', 'a good', 'good film']
        """
        config = {**self.config(), "ngram": n, "num_words": num_words}
        return Vocabulary(**config)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data. With ``num_words`` only the kept words (and OOV) are stored."""
        ranked = sorted(self.word_index.items(), key=lambda item: item[1])
        if self.num_words:
            # The OOV token (id 1) stays even when num_words is 1: without it a reloaded
            # vocabulary would drop unknown words instead of mapping them to 1.
            ranked = [(w, i) for w, i in ranked if i < self.num_words or w == self.oov_token]
        tokens = [w for w, _ in ranked]
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": {name: value for name, value in self.config().items()
                       if name not in self._LATER_DEFAULTS
                       or value != self._LATER_DEFAULTS[name]},
            "document_count": self.document_count,
            "tokens": tokens,
            "counts": [self.word_counts.get(w, 0) for w in tokens],
            "docs": [self.word_docs.get(w, 0) for w in tokens],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not an rnn-tui vocabulary")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"unknown vocabulary format version {version!r}")
        config = data["config"]
        if not isinstance(config, dict):
            raise ValueError("'config' must be an object")
        unknown = set(config) - set(cls._CONFIG_FIELDS)
        if unknown:
            raise ValueError(f"unknown vocabulary settings: {', '.join(sorted(unknown))}")
        for name, value in config.items():
            allowed = cls._CONFIG_TYPES[name]
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                raise ValueError(f"setting {name!r} has the wrong type ({value!r})")
        if config.get("split") == "":
            raise ValueError("setting 'split' is empty")
        tokens = data["tokens"]
        counts = data.get("counts") or [0] * len(tokens)
        docs = data.get("docs") or [0] * len(tokens)
        if not (len(tokens) == len(counts) == len(docs)):
            raise ValueError("tokens, counts and docs differ in length")
        if not all(isinstance(t, str) for t in tokens):
            raise ValueError("tokens must be strings")
        vocabulary = cls(**config)
        vocabulary.word_index = {word: index for index, word in enumerate(tokens, start=1)}
        if len(vocabulary.word_index) != len(tokens):
            raise ValueError("duplicate tokens")
        vocabulary.word_counts = dict(zip(tokens, counts))
        vocabulary.word_docs = dict(zip(tokens, docs))
        vocabulary.document_count = int(data.get("document_count", 0))
        return vocabulary

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        """Write atomically (temp file, then rename), so a crash never leaves half a file."""
        from rnn_tui.fileio import atomic_write_text

        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """Read a saved vocabulary; a damaged file is a DataError naming it."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError("vocabulary file not found", path) from None
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(f"cannot read vocabulary: {error}", path) from None
        try:
            return cls.from_json(text)
        except json.JSONDecodeError as error:
            raise DataError(f"not valid JSON ({error.msg})", path, error.lineno) from None
        except RecursionError:
            raise DataError("not a usable vocabulary: nested too deeply", path) from None
        except (ValueError, KeyError, TypeError, re.error) as error:
            raise DataError(f"not a usable vocabulary: {error}", path) from None


def ngrams(tokens: Sequence[str], n: int) -> list[str]:
    """The n-gram ending at each position, padded with "<s>" before the first token.

    >>> ngrams(["the", "film", "was"], 2)
    ['<s> the', 'the film', 'film was']
    >>> ngrams(["a", "b"], 3)
    ['<s> <s> a', '<s> a b']
    """
    padded = [NGRAM_START] * (n - 1) + list(tokens)
    return [" ".join(padded[i: i + n]) for i in range(len(tokens))]


def split_suffixes(tokens: Sequence[str], suffix: int) -> list[str]:
    """Hangul words of 2+ syllables become stem + "##" + their last syllables (at most
    ``suffix``, always leaving a stem of one or more); other tokens stay.

    >>> split_suffixes(["재미있었다", "ok", "굿"], 2)
    ['재미있', '##었다', 'ok', '굿']
    """
    result: list[str] = []
    for token in tokens:
        if len(token) >= 2 and _HANGUL_WORD.fullmatch(token):
            cut = min(suffix, len(token) - 1)
            result.append(token[:-cut])
            result.append("##" + token[-cut:])
        else:
            result.append(token)
    return result
