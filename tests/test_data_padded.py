"""load_padded: one call from a corpus to padded id arrays."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.data import load_padded
from rnn_tui.errors import UserError
from rnn_tui.text import Vocabulary


def write_csv(tmp_path):
    path = tmp_path / "d.csv"
    rows = ["text,label,split", "the film was good,1,train", "the film was bad bad,0,train",
            "good good good good good good,1,train", "a new word,0,test", "the good film,1,test"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_text_corpus_is_padded_with_a_vocabulary_fitted_on_train(tmp_path):
    padded = load_padded(write_csv(tmp_path), num_words=5, maxlen=4)
    vocabulary = padded.vocabulary
    assert isinstance(vocabulary, Vocabulary)
    assert vocabulary.document_count == 3  # train texts only
    assert padded.x_train.dtype == np.int32 and padded.x_train.shape == (3, 4)
    expected = vocabulary.encode(padded.corpus.train.texts, maxlen=4, padding="post", truncating="pre")
    np.testing.assert_array_equal(padded.x_train, expected)
    # "a new word" is unseen: all OOV (id 1), padded after (post)
    assert padded.x_test[0].tolist() == [1, 1, 1, 0]
    assert padded.y_train.tolist() == [1, 0, 1] and padded.y_test.tolist() == [0, 1]
    assert padded.maxlen == 4 and padded.x_validation is None
    assert padded.x_train.max() < 5  # num_words keeps ids below 5


def test_maxlen_defaults_to_the_longest_training_text(tmp_path):
    padded = load_padded(write_csv(tmp_path))
    assert padded.maxlen == 6 and padded.x_train.shape == (3, 6) and padded.x_test.shape == (2, 6)


def test_char_level_and_cleaner(tmp_path):
    padded = load_padded(write_csv(tmp_path), level="char", maxlen=10, padding="pre")
    assert padded.vocabulary.level == "char" and padded.x_train.shape == (3, 10)
    assert padded.x_test[1, -1] != 0  # pre padding keeps the end


def test_synthetic_gives_features():
    padded = load_padded("multiplication", train_size=16, test_size=4, seed=1)
    assert padded.vocabulary is None and padded.x_train.shape == (16, 100, 2)
    assert padded.x_test.dtype == np.float32 and padded.maxlen == 100


def test_bad_settings(tmp_path):
    path = write_csv(tmp_path)
    with pytest.raises(UserError, match="padding"):
        load_padded(path, padding="middle")
    with pytest.raises(UserError, match="unknown cleaner"):
        load_padded(path, cleaner="nope")
    with pytest.raises(UserError, match="maxlen"):
        load_padded(path, maxlen=0)
    with pytest.raises(UserError, match="level"):
        load_padded(path, level="sentence")
