"""Reuters-21578 as the 46-topic task: SGML parsing, the Keras and ModApte splits, npz form."""

from __future__ import annotations

import ast
import json
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from conftest import require_real_corpus
from rnn_tui.data import catalog, load_corpus, reuters
from rnn_tui.errors import DataError, NotFoundError, UserError

# Keras' own source in the running environment, read as text (keras is not imported).
KERAS_REUTERS_SOURCE = Path(sysconfig.get_paths()["purelib"]) / "keras/src/datasets/reuters.py"


def keras_label_names() -> list[str]:
    """get_label_names()'s tuple, read from Keras' source without importing TensorFlow."""
    if not KERAS_REUTERS_SOURCE.exists():
        pytest.skip("Keras' source is not installed")
    tree = ast.parse(KERAS_REUTERS_SOURCE.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "get_label_names":
            returned = next(n for n in ast.walk(node) if isinstance(n, ast.Return))
            return list(ast.literal_eval(returned.value))
    raise AssertionError("get_label_names not found in Keras' reuters.py")


def test_label_names_are_keras_in_order():
    assert list(catalog.REUTERS_LABELS) == keras_label_names()
    assert len(catalog.REUTERS_LABELS) == 46


def sample_wires(builders):
    wire = builders.reuters_wire
    return [
        wire(1, ("cocoa",), title="BAHIA COCOA REVIEW", body="Showers continued &lt;BAHIA&gt; &amp; co.\n Reuter\n&#3;"),
        wire(2, ("grain", "wheat"), lewis="TEST", title="GRAIN SHIPS", body="Wheat was loaded.\n REUTER\n&#3;"),
        wire(3, ("usa-made-up", "earn"), title="SKIPPED", body="first topic not among the 46"),
        wire(4, (), title="NO TOPICS", body="no topic at all"),
        wire(5, ("acq",), title="BRIEF ONE", text_type="BRIEF"),
        wire(6, ("money-fx",), lewis="TEST", body="FEDERAL RESERVE WEEKLY REPORT\n  raw table", text_type="UNPROC"),
        wire(7, ("earn",), lewis="NOT-USED", title="Z\xfcRICH NET", body="Profit rose &#127;sharply.\n Reuter\n&#3;"),
        wire(8, ("earn",), has_topics="NO", title="NO FLAG", body="Topics attribute says NO."),
        wire(9, ("acq", "earn"), title="ACQ TITLE", body="Bought a company.\n Reuter\n&#3;"),
        wire(10, ("crude",), lewis="TEST", title="OIL", body="Crude rose.\n Reuter\n&#3;"),
    ]


def write_sgml_folder(home, builders, wires=None):
    folder = home / "reuters21578"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in builders.reuters_files(wires or sample_wires(builders)):
        (folder / name).write_bytes(data)
    return folder


def write_sgml_tarball(home, builders, wires=None, *, dot_prefix=True):
    members = builders.reuters_files(wires or sample_wires(builders))
    members.append(("README.txt", b"Reuters-21578 text categorization test collection"))
    return builders.tarball(home / "reuters21578" / "reuters21578.tar.gz", members, dot_prefix=dot_prefix)


def by_text(split):
    return dict(zip(split.texts, split.labels.tolist()))


def test_sgml_labels_texts_and_cleaning(data_home, builders):
    write_sgml_folder(data_home, builders)
    corpus = load_corpus("reuters")
    assert corpus.form == "reut2-*.sgm files"
    assert corpus.task == "multiclass" and corpus.num_classes == 46
    texts = {**by_text(corpus.train), **by_text(corpus.test)}
    ids = {name: i for i, name in enumerate(catalog.REUTERS_LABELS)}
    assert texts == {
        "BAHIA COCOA REVIEW\nShowers continued <BAHIA> & co.": ids["cocoa"],
        "GRAIN SHIPS\nWheat was loaded.": ids["grain"],  # first topic wins
        "BRIEF ONE": ids["acq"],  # BRIEF: the title is the text ("Blah blah blah." dropped)
        "FEDERAL RESERVE WEEKLY REPORT raw table": ids["money-fx"],  # UNPROC: untagged text
        "Z\xfcRICH NET\nProfit rose sharply.": ids["earn"],  # latin-1 byte, &#127; removed
        "NO FLAG\nTopics attribute says NO.": ids["earn"],
        "ACQ TITLE\nBought a company.": ids["acq"],
        "OIL\nCrude rose.": ids["crude"],
    }
    assert len(corpus.train) + len(corpus.test) == 8  # wires 3 and 4 left out
    assert any("8 of 10 newswires" in note for note in corpus.notes)


def test_keras_split_is_keras_shuffle_and_cut(data_home, builders):
    write_sgml_folder(data_home, builders)
    corpus = load_corpus("reuters")
    titles_in_newid_order = ["BAHIA COCOA REVIEW", "GRAIN SHIPS", "BRIEF ONE",
                             "FEDERAL RESERVE WEEKLY REPORT raw table", "Z\xfcRICH NET",
                             "NO FLAG", "ACQ TITLE", "OIL"]
    order = np.arange(8)
    np.random.RandomState(113).shuffle(order)
    cut = int(8 * (1 - 0.2))
    assert (len(corpus.train), len(corpus.test)) == (cut, 8 - cut) == (6, 2)
    got = [t.split("\n")[0] for t in corpus.train.texts + corpus.test.texts]
    assert got == [titles_in_newid_order[i] for i in order]
    assert load_corpus("reuters").train.texts == corpus.train.texts  # deterministic
    other_seed = load_corpus("reuters", seed=7)
    assert other_seed.train.texts != corpus.train.texts
    assert sorted(other_seed.train.texts + other_seed.test.texts) == sorted(got_all(corpus))
    half = load_corpus("reuters", test_split=0.5)
    assert (len(half.train), len(half.test)) == (4, 4)
    with pytest.raises(UserError, match="test_split"):
        load_corpus("reuters", test_split=1.5)


def got_all(corpus):
    return corpus.train.texts + corpus.test.texts


def test_body_only_drops_wires_without_text(data_home, builders):
    write_sgml_folder(data_home, builders)
    corpus = load_corpus("reuters", title=False)
    texts = got_all(corpus)
    assert len(texts) == 7  # the BRIEF wire has a title only
    assert "Showers continued <BAHIA> & co." in texts
    assert any("1 newswires without any text dropped" in note for note in corpus.notes)


def test_modapte_split(data_home, builders):
    write_sgml_folder(data_home, builders)
    corpus = load_corpus("reuters", split="modapte")
    # TRAIN/TEST with TOPICS="YES"; NOT-USED (7) and TOPICS="NO" (8) are left out; NEWID order
    assert [t.split("\n")[0] for t in corpus.train.texts] == ["BAHIA COCOA REVIEW", "BRIEF ONE", "ACQ TITLE"]
    assert [t.split("\n")[0] for t in corpus.test.texts] == [
        "GRAIN SHIPS", "FEDERAL RESERVE WEEKLY REPORT raw table", "OIL"]
    with pytest.raises(UserError, match="ModApte split needs the SGML"):
        load_corpus("reuters", split="modapte", form="npz")
    with pytest.raises(UserError, match="split must be one of"):
        load_corpus("reuters", split="lewis")


def test_tarball_equals_folder(data_home, builders, tmp_path):
    write_sgml_folder(data_home, builders)
    from_folder = load_corpus("reuters")
    other = tmp_path / "other-home"
    write_sgml_tarball(other, builders)
    from_tarball = load_corpus("reuters", data_home=other)
    assert from_tarball.form == "reuters21578.tar.gz"
    assert from_tarball.train.texts == from_folder.train.texts
    assert from_tarball.test.labels.tolist() == from_folder.test.labels.tolist()


# ---------------------------------------------------------------------------- bad inputs
def test_unclosed_element_names_file_and_line(data_home, builders):
    wires = sample_wires(builders)
    wires[0] = wires[0].replace("</REUTERS>", "")
    folder = write_sgml_folder(data_home, builders, wires)
    with pytest.raises(DataError, match="without its closing") as error:
        load_corpus("reuters")
    assert error.value.path == folder / "reut2-000.sgm"
    assert error.value.line == 2  # after the DOCTYPE line


def test_missing_attribute_and_bad_newid(data_home, builders):
    wires = sample_wires(builders)
    wires[1] = wires[1].replace('NEWID="2"', 'NEWID="two"')
    write_sgml_folder(data_home, builders, wires)
    with pytest.raises(DataError, match="NEWID is not a number") as error:
        load_corpus("reuters")
    assert error.value.line == 2
    wires[1] = wires[1].replace(' LEWISSPLIT="TEST"', "")
    write_sgml_folder(data_home, builders, wires)
    with pytest.raises(DataError, match="LEWISSPLIT"):
        load_corpus("reuters")


def test_incomplete_collection_is_refused(data_home, builders):
    folder = write_sgml_folder(data_home, builders)
    (folder / "reut2-013.sgm").unlink()
    with pytest.raises(DataError, match="missing reut2-013.sgm"):
        load_corpus("reuters")


def test_damaged_tarball(data_home):
    target = data_home / "reuters21578" / "reuters21578.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataError) as error:
        load_corpus("reuters")
    assert error.value.path == target


def test_absent(data_home):
    with pytest.raises(NotFoundError, match="rnn-tui data fetch reuters"):
        load_corpus("reuters")


# ---------------------------------------------------------------------------- Keras npz
WORD_INDEX = {"the": 1, "said": 2, "oil": 3, "rose": 4, "profit": 5}
XS = [[1, 3, 4], [2, 5], [1, 5, 4, 2], [3], [1, 2], [4, 4, 3]]
YS = [16, 3, 3, 16, 4, 16]


def write_npz_form(home, builders):
    builders.keras_npz(home / "reuters" / "reuters.npz", x=XS, y=YS)
    (home / "reuters" / "reuters_word_index.json").write_text(json.dumps(WORD_INDEX), encoding="utf-8")


def test_npz_form_matches_keras_load_data(data_home, builders, monkeypatch):
    write_npz_form(data_home, builders)
    from rnn_tui.backend import keras

    keras()
    import keras.src.datasets.reuters as keras_reuters

    monkeypatch.setattr(keras_reuters, "get_file", lambda *a, **k: str(data_home / "reuters" / "reuters.npz"))
    (x_train, y_train), (x_test, y_test) = keras_reuters.load_data()
    inverted = {rank + 3: word for word, rank in WORD_INDEX.items()}
    inverted[2] = "<OOV>"

    def decode(sequence):
        return " ".join(inverted[i] for i in sequence if i != 1)

    def as_keras_reads(text):  # Keras turns its highest id ("profit") into OOV, see test_data_imdb
        return " ".join("<OOV>" if word == "profit" else word for word in text.split())

    corpus = load_corpus("reuters", form="npz")
    assert corpus.form == "Keras reuters.npz"
    assert [as_keras_reads(t) for t in corpus.train.texts] == [decode(s) for s in x_train]
    assert [as_keras_reads(t) for t in corpus.test.texts] == [decode(s) for s in x_test]
    assert corpus.train.labels.tolist() == list(y_train)
    assert corpus.test.labels.tolist() == list(y_test)


def test_npz_labels_out_of_range(data_home, builders):
    write_npz_form(data_home, builders)
    builders.keras_npz(data_home / "reuters" / "reuters.npz", x=XS, y=[16, 3, 3, 46, 4, 16])
    with pytest.raises(DataError, match="labels outside 0..45"):
        load_corpus("reuters", form="npz")
    builders.keras_npz(data_home / "reuters" / "reuters.npz", x=XS, y=YS[:5])
    with pytest.raises(DataError, match="should hold 6 labels"):
        load_corpus("reuters", form="npz")


def test_parse_sgml_function_on_text():
    text = '<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" NEWID="12">\n<TOPICS><D>gold</D></TOPICS>' \
           "<TEXT>&#2;\n<TITLE>GOLD &amp; SILVER</TITLE><BODY>Gold   rose\n  today. Reuter</BODY></TEXT></REUTERS>"
    (wire,) = reuters.parse_sgml(text, "x.sgm")
    assert (wire.newid, wire.topics, wire.title, wire.body) == (12, ["gold"], "GOLD & SILVER", "Gold rose today.")
    assert reuters.label_of(wire) == catalog.REUTERS_LABELS.index("gold")


# ---------------------------------------------------------------------------- the real corpus
@pytest.mark.realdata
def test_real_reuters_is_the_keras_task(real_data_home):
    require_real_corpus(real_data_home, "reuters21578/reuters21578.tar.gz")
    corpus = load_corpus("reuters")
    assert corpus.num_classes == 46 and corpus.label_names == keras_label_names()
    # 11,228 wires, the size of keras.datasets.reuters (the data README says "11,209": see notes)
    assert len(corpus.train) + len(corpus.test) == 11_228
    assert (len(corpus.train), len(corpus.test)) == (8_982, 2_246)
    assert set(np.unique(np.concatenate([corpus.train.labels, corpus.test.labels]))) == set(range(46))
    # The published first labels of keras.datasets.reuters.load_data()[0][1] and its first
    # newswire ("... said as a result of its december acquisition of space co ...")
    assert corpus.train.labels[:10].tolist() == [3, 4, 3, 4, 4, 4, 4, 3, 3, 16]
    assert "acquisition of Space Co" in corpus.train.texts[0]
    assert np.bincount(corpus.train.labels, minlength=46)[3] == 3_159  # earn
    assert not any("&lt;" in t or "\x03" in t for t in corpus.train.texts)
    again = load_corpus("reuters")
    assert again.train.texts == corpus.train.texts and again.test.texts == corpus.test.texts


@pytest.mark.realdata
def test_real_reuters_modapte(real_data_home):
    require_real_corpus(real_data_home, "reuters21578/reuters21578.tar.gz")
    corpus = load_corpus("reuters", split="modapte")
    assert (len(corpus.train), len(corpus.test)) == (7_697, 2_974)
    assert corpus.train.texts[0].startswith("BAHIA COCOA REVIEW")
