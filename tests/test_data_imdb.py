"""IMDB: the aclImdb folder and tarball, Keras' npz form, bad inputs, the real corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import require_real_corpus
from rnn_tui.data import load_corpus
from rnn_tui.errors import DataError, NotFoundError, UserError


def sample_texts(builders, split):
    """The sample's cleaned texts of one split, by label."""
    texts = {0: set(), 1: set()}
    for (s, folder), items in builders.imdb_sample.items():
        if s == split:
            for _, _, text in items:
                texts[1 if folder == "pos" else 0].add(text.replace("<br />", " "))
    return texts


@pytest.mark.parametrize("form", ["folder", "official tarball", "mirror tarball"])
def test_raw_forms_give_the_labeled_reviews(data_home, builders, form):
    if form == "folder":
        builders.imdb_folder(data_home / "imdb")
        expected_form = "aclImdb folder"
    else:
        name = "aclImdb_v1.tar.gz" if form == "official tarball" else "aclImdb_labeled.tar.gz"
        builders.imdb_tarball(data_home / "imdb" / name)
        expected_form = name
    corpus = load_corpus("imdb")
    assert corpus.form == expected_form
    assert corpus.task == "binary" and corpus.label_names == ["negative", "positive"]
    assert corpus.language == "en"
    for split_name, split in (("train", corpus.train), ("test", corpus.test)):
        assert len(split) == 4  # unsup and other files ignored
        by_label = {0: set(), 1: set()}
        for text, label in zip(split.texts, split.labels.tolist()):
            by_label[label].add(text)
        assert by_label == sample_texts(builders, split_name)
    assert all("<br" not in text for text in corpus.train.texts)
    assert "A wonderful film.  Loved it." in corpus.train.texts
    assert corpus.train.labels.dtype == np.int64


def test_order_is_sorted_then_shuffled_like_keras(data_home, builders):
    builders.imdb_tarball(data_home / "imdb" / "aclImdb_v1.tar.gz")
    unshuffled = load_corpus("imdb", seed=None)
    # sorted: negative then positive, by review id
    assert unshuffled.train.labels.tolist() == [0, 0, 1, 1]
    assert unshuffled.train.texts[0] == "Dull and slow. Avoid."  # id 1 < id 2
    shuffled = load_corpus("imdb")
    rng = np.random.RandomState(113)
    train_order = np.arange(4)
    rng.shuffle(train_order)
    test_order = np.arange(4)
    rng.shuffle(test_order)  # the same generator continues, as in keras.datasets.imdb
    assert shuffled.train.texts == [unshuffled.train.texts[i] for i in train_order]
    assert shuffled.test.texts == [unshuffled.test.texts[i] for i in test_order]
    assert load_corpus("imdb").train.texts == shuffled.train.texts  # deterministic


def test_folder_is_preferred_and_form_option_selects(data_home, builders):
    builders.imdb_folder(data_home / "imdb")
    builders.imdb_tarball(data_home / "imdb" / "aclImdb_v1.tar.gz")
    assert load_corpus("imdb").form == "aclImdb folder"
    with pytest.raises(NotFoundError, match="imdb.npz"):
        load_corpus("imdb", form="npz")
    with pytest.raises(UserError, match="no form 'bogus'"):
        load_corpus("imdb", form="bogus")


def test_absent_corpus_says_how_to_get_it(data_home):
    with pytest.raises(NotFoundError) as error:
        load_corpus("imdb")
    message = str(error.value)
    assert "rnn-tui data fetch imdb" in message and "rnn-tui data import imdb" in message
    assert str(data_home) in message


WORD_INDEX = {"the": 1, "film": 2, "good": 3, "bad": 4, "plot": 5}
X_TRAIN = [[1, 2, 3], [1, 5, 4], [2, 3], [4, 4, 1]]
Y_TRAIN = [1, 0, 1, 0]
X_TEST = [[1, 4], [5, 3, 2], [3]]
Y_TEST = [0, 1, 1]


def write_npz_form(home, builders, word_index=WORD_INDEX):
    builders.keras_npz(home / "imdb" / "imdb.npz", x_train=X_TRAIN, y_train=Y_TRAIN,
                       x_test=X_TEST, y_test=Y_TEST)
    (home / "imdb" / "imdb_word_index.json").write_text(json.dumps(word_index), encoding="utf-8")


def test_npz_form_decodes_ids_to_words(data_home, builders):
    write_npz_form(data_home, builders)
    corpus = load_corpus("imdb", form="npz", seed=None)
    assert corpus.form == "Keras imdb.npz"
    assert corpus.train.texts == ["the film good", "the plot bad", "film good", "bad bad the"]
    assert corpus.train.labels.tolist() == Y_TRAIN
    assert corpus.test.texts == ["the bad", "plot good film", "good"]


def test_npz_form_matches_keras_load_data(data_home, builders, monkeypatch):
    """Same order and same words as keras.datasets.imdb.load_data + Keras' decoding recipe."""
    write_npz_form(data_home, builders)
    from rnn_tui.backend import keras

    keras()
    import keras.src.datasets.imdb as keras_imdb

    monkeypatch.setattr(keras_imdb, "get_file", lambda *a, **k: str(data_home / "imdb" / "imdb.npz"))
    (x_train, y_train), (x_test, y_test) = keras_imdb.load_data()
    inverted = {rank + 3: word for word, rank in WORD_INDEX.items()}
    inverted[2] = "<OOV>"

    def decode(sequence):  # the recipe of keras.datasets.imdb.get_word_index's docstring
        return " ".join(inverted[i] for i in sequence if i != 1)

    # Keras' load_data sets num_words to the largest id and keeps ids *below* it, so the
    # rarest word ("plot", rank 5) comes out as the OOV id 2; rnn-tui keeps the word.
    def as_keras_reads(text):
        return " ".join("<OOV>" if word == "plot" else word for word in text.split())

    corpus = load_corpus("imdb", form="npz")
    assert [as_keras_reads(t) for t in corpus.train.texts] == [decode(s) for s in x_train]
    assert [as_keras_reads(t) for t in corpus.test.texts] == [decode(s) for s in x_test]
    assert corpus.train.labels.tolist() == list(y_train)
    assert corpus.test.labels.tolist() == list(y_test)
    assert "plot" in " ".join(corpus.train.texts + corpus.test.texts)


def test_npz_ids_without_a_word_are_counted(data_home, builders):
    write_npz_form(data_home, builders, word_index={"the": 1, "film": 2})
    corpus = load_corpus("imdb", form="npz", seed=None)
    assert corpus.train.texts[0] == "the film"
    assert any("ids without a word" in note for note in corpus.notes)


# ---------------------------------------------------------------------------- bad inputs
def test_invalid_utf8_names_the_member_and_line(data_home, builders):
    reviews = dict(builders.imdb_sample)
    reviews[("test", "neg")] = [(6, 3, b"fine line\nbad \xff byte")]
    builders.imdb_tarball(data_home / "imdb" / "aclImdb_v1.tar.gz", reviews)
    with pytest.raises(DataError, match="not valid UTF-8") as error:
        load_corpus("imdb")
    assert error.value.line == 2
    assert str(error.value.path).endswith("aclImdb/test/neg/6_3.txt")


def test_missing_class_folder_is_a_data_error(data_home, builders):
    reviews = {k: v for k, v in builders.imdb_sample.items() if k != ("test", "pos")}
    builders.imdb_tarball(data_home / "imdb" / "aclImdb_v1.tar.gz", reviews)
    with pytest.raises(DataError, match="aclImdb/test/pos"):
        load_corpus("imdb")


def test_not_a_tarball_is_a_data_error(data_home):
    target = data_home / "imdb" / "aclImdb_v1.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(DataError, match="not a readable .tar.gz") as error:
        load_corpus("imdb")
    assert error.value.path == target


def test_truncated_tarball_is_a_data_error(data_home, builders, tmp_path):
    whole = builders.imdb_tarball(tmp_path / "whole.tar.gz")
    target = data_home / "imdb" / "aclImdb_v1.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(DataError):
        load_corpus("imdb")


def test_damaged_npz_and_word_index(data_home, builders):
    write_npz_form(data_home, builders)
    index = data_home / "imdb" / "imdb_word_index.json"
    index.write_text('{"the": 1,\n "film": }', encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON") as error:
        load_corpus("imdb", form="npz")
    assert error.value.line == 2
    index.write_text('["the", "film"]', encoding="utf-8")
    with pytest.raises(DataError, match="mapping words"):
        load_corpus("imdb", form="npz")
    index.write_text(json.dumps(WORD_INDEX), encoding="utf-8")
    builders.keras_npz(data_home / "imdb" / "imdb.npz", x_train=X_TRAIN, y_train=[1, 0, 7, 0],
                       x_test=X_TEST, y_test=Y_TEST)
    with pytest.raises(DataError, match="labels outside 0..1"):
        load_corpus("imdb", form="npz")
    np.savez(data_home / "imdb" / "imdb.npz", x_train=np.arange(3))
    with pytest.raises(DataError, match="no array 'y_train'"):
        load_corpus("imdb", form="npz")
    (data_home / "imdb" / "imdb.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_corpus("imdb", form="npz")


def test_npz_with_a_code_running_pickle_is_refused(data_home, builders, tmp_path):
    import io
    import os
    import pickle
    import zipfile

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    write_npz_form(data_home, builders)
    path = data_home / "imdb" / "imdb.npz"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    evil = io.BytesIO()
    np.lib.format.write_array_header_1_0(evil, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    evil.write(pickle.dumps(np.array([Evil()], dtype=object)))
    members["x_test.npy"] = evil.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(DataError, match="refusing"):
        load_corpus("imdb", form="npz")
    assert not (tmp_path / "pwned").exists()


# ---------------------------------------------------------------------------- the real corpus
@pytest.mark.realdata
def test_real_imdb_counts_and_balance(real_data_home):
    require_real_corpus(real_data_home, "imdb/aclImdb_labeled.tar.gz")
    corpus = load_corpus("imdb")
    assert (len(corpus.train), len(corpus.test)) == (24_996, 24_996)
    assert np.bincount(corpus.train.labels).tolist() == [12_498, 12_498]
    assert np.bincount(corpus.test.labels).tolist() == [12_500, 12_496]
    assert not any("<br" in text for text in corpus.train.texts[:2000])
    assert len(set(corpus.train.texts)) > 24_000
