"""Vocabularies saved by other tools, read as rnn-tui ``Vocabulary`` objects.

The tutorials keep their tokenizer as Keras' ``Tokenizer.to_json()`` (``{"class_name":
"Tokenizer", "config": {...}}`` where ``word_index``, ``word_counts`` and ``word_docs`` are
JSON text inside the JSON), or as a plain word index (``{"the": 1, "a": 2, ...}``). Both
become a Vocabulary with the same ids and Keras' tokenizing settings (``filters``, ``lower``,
``split``, ``char_level``, ``num_words``, ``oov_token``), so the model they fed reads the same
ids here.

>>> vocabulary = vocabulary_from_data({"<OOV>": 1, "good": 2, "film": 3}, oov_token="<OOV>")
>>> vocabulary.texts_to_sequences(["Good film, bad film"])
[[2, 3, 1, 3]]
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rnn_tui.errors import DataError
from rnn_tui.text.vocabulary import FORMAT, KERAS_FILTERS, Vocabulary

MAX_VOCABULARY_BYTES = 512 * 1024 * 1024  # reading is bounded: a word index is never this big


def read_vocabulary(path: str | Path, *, oov_token: str | None = None) -> tuple[Vocabulary, str]:
    """(vocabulary, kind) from an rnn-tui vocabulary, a Keras Tokenizer JSON or a plain word
    index; kind is ``"rnn-tui"``, ``"keras-tokenizer"`` or ``"word-index"``.

    ``oov_token`` names the out-of-vocabulary token of a plain word index (a Keras Tokenizer
    JSON says its own). Anything else is a DataError naming the file.
    """
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_VOCABULARY_BYTES + 1)
    except FileNotFoundError:
        raise DataError("vocabulary file not found", path) from None
    except OSError as error:
        raise DataError(f"cannot read vocabulary: {error.strerror or error}", path) from None
    if len(raw) > MAX_VOCABULARY_BYTES:
        raise DataError(f"larger than {MAX_VOCABULARY_BYTES // 2**20} MiB: not a vocabulary",
                        path)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise DataError(f"not UTF-8 text ({error.reason})", path) from None
    except json.JSONDecodeError as error:
        raise DataError(f"not valid JSON ({error.msg})", path, error.lineno) from None
    kind = ("rnn-tui" if isinstance(data, dict) and data.get("format") == FORMAT else
            "keras-tokenizer" if isinstance(data, dict) and "class_name" in data else
            "word-index")
    try:
        if kind == "rnn-tui":
            return Vocabulary.from_dict(data), kind
        return vocabulary_from_data(data, oov_token=oov_token), kind
    except (ValueError, KeyError, TypeError, re.error) as error:
        raise DataError(f"not a usable vocabulary: {error}", path) from None


def vocabulary_from_data(data: Any, *, oov_token: str | None = None) -> Vocabulary:
    """A Vocabulary from Keras ``Tokenizer.to_json()`` data or a plain ``{word: id}`` index."""
    if isinstance(data, dict) and "class_name" in data:
        return _from_keras_tokenizer(data)
    if not isinstance(data, dict) or not data:
        raise ValueError("expected an rnn-tui vocabulary, a Keras Tokenizer JSON "
                         "(Tokenizer.to_json()) or a word index ({\"word\": id, ...})")
    if oov_token is not None and oov_token not in data:
        raise ValueError(f"the OOV token {oov_token!r} is not in the word index")
    return _with_index(Vocabulary(oov_token=oov_token), data)


def _from_keras_tokenizer(data: dict[str, Any]) -> Vocabulary:
    if data.get("class_name") != "Tokenizer" or not isinstance(data.get("config"), dict):
        raise ValueError(f"class_name {data.get('class_name')!r}: expected a Keras Tokenizer "
                         "saved with Tokenizer.to_json()")
    config = data["config"]
    num_words = config.get("num_words")
    oov_token = config.get("oov_token")
    for name, value, kinds in (("num_words", num_words, (int, type(None))),
                               ("oov_token", oov_token, (str, type(None))),
                               ("filters", config.get("filters", KERAS_FILTERS), (str,)),
                               ("split", config.get("split", " "), (str,))):
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise ValueError(f"Tokenizer setting {name!r} has the wrong type ({value!r})")
    vocabulary = Vocabulary(
        level="char" if config.get("char_level") else "word",
        num_words=num_words or None,
        oov_token=oov_token,
        lower=bool(config.get("lower", True)),
        filters=config.get("filters", KERAS_FILTERS),
        split=config.get("split", " ") or " ",
    )
    word_index = _embedded_json(config, "word_index")
    _with_index(vocabulary, word_index)
    counts = _embedded_json(config, "word_counts", required=False)
    docs = _embedded_json(config, "word_docs", required=False)
    vocabulary.word_counts = {word: int(counts.get(word, 0)) for word in vocabulary.word_index}
    vocabulary.word_docs = {word: int(docs.get(word, 0)) for word in vocabulary.word_index}
    vocabulary.document_count = int(config.get("document_count") or 0)
    return vocabulary


def _embedded_json(config: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    """Tokenizer.get_config() stores its dictionaries as JSON text inside the JSON."""
    value = config.get(key)
    if value is None and not required:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError(f"Tokenizer config {key!r} is not a dictionary")
    return value


def _with_index(vocabulary: Vocabulary, word_index: dict[str, Any]) -> Vocabulary:
    """Set the word index; ids must run 1..n (as Keras numbers them), since a Vocabulary
    stores its tokens in id order."""
    index: dict[str, int] = {}
    for word, number in word_index.items():
        if not isinstance(word, str) or isinstance(number, bool) or not isinstance(number, int):
            raise ValueError(f"word index entry {word!r}: {number!r} is not a word and an id")
        index[word] = number
    ids = sorted(index.values())
    if ids != list(range(1, len(ids) + 1)):
        gap = next((i for i, n in enumerate(ids, start=1) if n != i), len(ids) + 1)
        raise ValueError(f"word index ids must run 1 to {len(ids)} without gaps or repeats "
                         f"(id {gap} is missing or repeated; 0 is padding)")
    vocabulary.word_index = dict(sorted(index.items(), key=lambda item: item[1]))
    return vocabulary
