"""Vocabularies from other tools: Keras ``Tokenizer.to_json()`` files and plain word indexes."""

from __future__ import annotations

import json

import pytest

from rnn_tui.errors import DataError
from rnn_tui.text.foreign import read_vocabulary


def keras_tokenizer_json(word_index, word_counts, *, num_words=None, oov_token=None,
                         char_level=False, lower=True, documents=3):
    """What Keras' ``Tokenizer.to_json()`` writes: ``get_config()`` under ``class_name``,
    its dictionaries as JSON text inside the JSON."""
    config = {
        "num_words": num_words, "filters": '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n',
        "lower": lower, "split": " ", "char_level": char_level, "oov_token": oov_token,
        "document_count": documents,
        "word_counts": json.dumps(word_counts), "word_docs": json.dumps(word_counts),
        "index_docs": json.dumps({str(i): word_counts.get(w, 0) for w, i in word_index.items()}),
        "index_word": json.dumps({str(i): w for w, i in word_index.items()}),
        "word_index": json.dumps(word_index),
    }
    return json.dumps({"class_name": "Tokenizer", "config": config})


def test_keras_tokenizer_json_gives_the_same_ids(tmp_path):
    # Tokenizer(num_words=4, oov_token="<OOV>").fit_on_texts(["good film", "bad film",
    # "good good plot"]): counts good 3, film 2, bad 1, plot 1; OOV first.
    index = {"<OOV>": 1, "good": 2, "film": 3, "bad": 4, "plot": 5}
    counts = {"good": 3, "film": 2, "bad": 1, "plot": 1}
    path = tmp_path / "keras_tokenizer.json"
    path.write_text(keras_tokenizer_json(index, counts, num_words=4, oov_token="<OOV>"))
    vocabulary, kind = read_vocabulary(path)
    assert kind == "keras-tokenizer" and vocabulary.oov_token == "<OOV>"
    assert vocabulary.word_index == index and vocabulary.word_counts["good"] == 3
    # num_words=4 keeps ids 1..3, as Keras' texts_to_sequences does; "bad" becomes OOV
    assert vocabulary.texts_to_sequences(["Good film, bad PLOT!"]) == [[2, 3, 1, 1]]
    assert vocabulary.size == 4 and vocabulary.document_count == 3


def test_char_level_tokenizer(tmp_path):
    path = tmp_path / "chars.json"
    path.write_text(keras_tokenizer_json({"재": 1, "미": 2}, {"재": 1, "미": 1},
                                         char_level=True), encoding="utf-8")
    vocabulary, _ = read_vocabulary(path)
    assert vocabulary.level == "char" and vocabulary.texts_to_sequences(["재미"]) == [[1, 2]]


def test_plain_word_index(tmp_path):
    path = tmp_path / "word_index.json"
    path.write_text(json.dumps({"the": 1, "film": 2, "<unk>": 3}))
    vocabulary, kind = read_vocabulary(path)
    assert kind == "word-index" and vocabulary.oov_token is None
    assert vocabulary.texts_to_sequences(["The zebra film"]) == [[1, 2]]  # unknowns dropped
    with_oov, _ = read_vocabulary(path, oov_token="<unk>")
    assert with_oov.texts_to_sequences(["The zebra film"]) == [[1, 3, 2]]


@pytest.mark.parametrize("content, message", [
    ('{"the": 1, "film": 3}', "ids must run 1 to 2 without gaps"),
    ('{"the": "1"}', "is not a word and an id"),
    ('[1, 2]', "expected an rnn-tui vocabulary, a Keras Tokenizer JSON"),
    ('{"class_name": "TextVectorization", "config": {}}', "expected a Keras Tokenizer"),
    ('{"the": 1', "not valid JSON"),
])
def test_bad_files_are_one_data_error(tmp_path, content, message):
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_vocabulary(path)
    with pytest.raises(DataError, match="OOV token '<OOV>' is not in the word index"):
        (tmp_path / "w.json").write_text('{"a": 1}')
        read_vocabulary(tmp_path / "w.json", oov_token="<OOV>")
