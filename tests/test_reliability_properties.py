"""Property tests for hostile input, extending test_data_properties.py,
test_text_vocabulary.py and test_text_padding.py (which compare with Keras):

- what is printed is never a terminal control sequence (``escape``, ``tsv_escape``);
- model names either are refused or stay inside the registry folder;
- the vocabulary takes any text (controls, NUL, emoji, right-to-left, lone surrogates);
- a real predictor gives finite probabilities that sum to 1 for any text;
- random or damaged bytes in every file format rnn-tui reads give DataError/UserError or a
  valid result, never another exception (which would be a traceback for the user).
"""

from __future__ import annotations

import json
import math
import re
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tui.cli.predict import tsv_escape
from rnn_tui.terminal import BIDI_CONTROLS, escape
from rnn_tui.errors import DataError, UserError

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text from anywhere: controls, surrogates, private use, emoji, right-to-left, combining.
HOSTILE = ["\x1b", "\x07", "\r", "\x08", "\x00", "\x7f", "\x9b", "\t", "\n", "\u202e", "\u2066",
           "\u200f", "\ufeff", "\U0001f3ac", "\u0301", "ש", "ع", "가", "[", "]", "/", " "]
ANY_TEXT = st.lists(st.one_of(st.sampled_from([*HOSTILE, "\ud800", "\udfff"]), st.characters()),
                    max_size=60).map("".join)
# What training data can hold: files are decoded strictly, so no lone surrogates.
FIT_TEXT = st.lists(st.one_of(st.sampled_from(HOSTILE),
                              st.characters(blacklist_categories=("Cs",))),
                    max_size=40).map("".join)
TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff" + "".join(BIDI_CONTROLS) + "]")


# ---------------------------------------------------------------------------- printing
@FUZZ
@given(text=ANY_TEXT)
def test_escaped_text_holds_no_control_character(text):
    shown = escape(text)
    assert not TERMINAL_UNSAFE.search(shown)
    assert len(shown) == len(text)  # one stand-in per character: positions still line up
    assert escape(shown) == shown
    shown.encode("utf-8")  # printable to any UTF-8 terminal (no lone surrogates)


@FUZZ
@given(text=ANY_TEXT)
def test_tsv_fields_hold_no_separator_or_control(text):
    field = tsv_escape(text)
    assert not re.search("[\x00-\x1f\x7f-\x9f]", field)


# ---------------------------------------------------------------------------- names
@FUZZ
@given(text=st.one_of(ANY_TEXT, st.sampled_from(["..", "../x", "/etc", "a/b", ".", "x" * 65,
                                                 "a..b", "~", "$HOME", "con", "a\\b"])))
def test_a_model_name_is_refused_or_stays_inside_the_registry(tmp_path, text):
    from rnn_tui.registry import ModelRef, check_name

    root = tmp_path / "models"
    try:
        name = check_name(text)
    except UserError as error:
        assert "\n" not in escape(str(error))
        return
    target = (root / name).resolve()
    assert target.parent == root.resolve() and target.name == name
    assert not name.startswith(".") and ".." not in name and "/" not in name
    for ref in (name, f"{name}:3", f"{name}@best"):
        assert ModelRef.parse(ref).name == name


# ---------------------------------------------------------------------------- vocabulary
@FUZZ
@given(texts=st.lists(FIT_TEXT, min_size=1, max_size=8), probes=st.lists(ANY_TEXT, max_size=5),
       level=st.sampled_from(["word", "char"]), maxlen=st.integers(1, 12))
def test_the_vocabulary_takes_any_text(tmp_path, texts, probes, level, maxlen):
    from rnn_tui.text import Vocabulary

    vocabulary = Vocabulary(level=level, num_words=50, oov_token="<OOV>").fit(texts)
    encoded = vocabulary.encode(texts + probes, maxlen=maxlen)
    assert encoded.shape == (len(texts) + len(probes), maxlen)
    assert encoded.min() >= 0 and encoded.max() < vocabulary.size
    path = tmp_path / "vocabulary.json"
    vocabulary.save(path)
    again = Vocabulary.load(path)
    np.testing.assert_array_equal(again.encode(texts + probes, maxlen=maxlen), encoded)


# ---------------------------------------------------------------------------- predict
@pytest.fixture(scope="module")
def predictor(tiny_text_models):
    from rnn_tui.infer import Predictor

    return Predictor.from_folder(tiny_text_models / "imdb-sentiment" / "1")


@FUZZ
@given(text=st.one_of(ANY_TEXT, st.builds(lambda t, n: t * n, ANY_TEXT, st.integers(1, 400))))
def test_predictions_for_any_text_are_probabilities(predictor, text):
    values = predictor.predict([text, "wonderful " + text])
    assert values.shape == (2, 2)
    assert np.isfinite(values).all() and (values >= 0).all()
    np.testing.assert_allclose(values.sum(axis=1), 1, atol=1e-5)
    session = predictor.session()
    live = session.update(text)
    assert np.isfinite(live).all() and math.isclose(float(live.sum()), 1, abs_tol=1e-5)


# ---------------------------------------------------------------------------- random bytes
def fails_cleanly(call) -> object:
    """``call()``'s result, or None when it raised DataError/UserError (anything else fails
    the test: it would be a traceback)."""
    try:
        return call()
    except (DataError, UserError):
        return None


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".json",
                                                              ".txt"]))
def test_random_bytes_as_a_dataset_file(tmp_path, data, suffix):
    from rnn_tui.data import load_corpus

    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    corpus = fails_cleanly(lambda: load_corpus(path))
    if corpus is not None:
        assert len(corpus.train) + len(corpus.test) > 0


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_keras_npz_dataset(tmp_path, data):
    from rnn_tui.data import readers

    path = tmp_path / "imdb.npz"
    path.write_bytes(data)
    fails_cleanly(lambda: readers.load_npz(path, ("x_train", "y_train")))


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_as_model_files(tmp_path, data):
    from rnn_tui.infer.format import read_runtime
    from rnn_tui.registry import read_card
    from rnn_tui.text import Vocabulary

    for name, read in (("card.json", read_card), ("vocabulary.json", Vocabulary.load),
                       ("runtime.npz", read_runtime)):
        path = tmp_path / name
        path.write_bytes(data)
        assert fails_cleanly(lambda: read(path)) is None or name == "vocabulary.json"


def flip(data: bytes, position: int, bit: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes([data[position] ^ (1 << bit)]) + data[position + 1:]


@FUZZ
@given(position=st.integers(0, 10**9), bit=st.integers(0, 7),
       name=st.sampled_from(["card.json", "vocabulary.json", "runtime.npz"]))
def test_a_damaged_model_file_is_refused_or_still_gives_the_same_answers(
        tmp_path, tiny_text_models, predictor, position, bit, name):
    import shutil

    from rnn_tui.infer import Predictor

    folder = tmp_path / "version"
    if not folder.exists():
        shutil.copytree(tiny_text_models / "imdb-sentiment" / "1", folder)
    original = (tiny_text_models / "imdb-sentiment" / "1" / name).read_bytes()
    (folder / name).write_bytes(flip(original, position, bit))
    try:
        loaded = fails_cleanly(lambda: Predictor.from_folder(folder))
        if loaded is None:
            return
        texts = ["wonderful film", "boring and dull"]
        np.testing.assert_array_equal(loaded.predict(texts), predictor.predict(texts))
        assert loaded.labels == predictor.labels
    finally:
        (folder / name).write_bytes(original)


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".tar.gz", ".zip"]))
def test_random_bytes_as_an_archive(tmp_path, data, suffix):
    from rnn_tui.registry import Registry

    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    registry = Registry(tmp_path / "models")
    assert fails_cleanly(lambda: registry.import_archive(path, "random")) is None
    assert registry.names() == []


@FUZZ
@given(position=st.integers(0, 10**9), bit=st.integers(0, 7))
def test_a_damaged_archive_is_refused_or_imports_intact(tmp_path, tiny_text_models,
                                                        position, bit):
    from rnn_tui.registry import Registry

    archive = tmp_path / "good.zip"
    if not archive.exists():
        Registry(tiny_text_models).export("imdb-sentiment", archive)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(flip(archive.read_bytes(), position, bit))
    registry = Registry(tmp_path / "models")
    version = fails_cleanly(lambda: registry.import_archive(damaged, "copy"))
    if version is not None:
        version.verify()  # whatever got in is exactly what the card says
        source = Registry(tiny_text_models).resolve("imdb-sentiment")
        assert version.card["files"] == source.card["files"]
        registry.remove(version.ref)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() |
                           st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=6)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["config", "tokens", "counts", "docs",
                                               "document_count"]), JSON_VALUES),
       config=st.dictionaries(st.sampled_from(["level", "num_words", "oov_token", "lower",
                                               "filters", "split", "ngram"]), JSON_VALUES))
def test_a_vocabulary_file_of_any_json_shape(tmp_path, fields, config):
    from rnn_tui.text import Vocabulary

    document = {"format": "rnn-tui-vocabulary", "format_version": 1, "config": config,
                "tokens": ["a", "b"], **fields}
    path = tmp_path / "vocabulary.json"
    path.write_text(json.dumps(document))
    vocabulary = fails_cleanly(lambda: Vocabulary.load(path))
    if vocabulary is not None:
        fails_cleanly(lambda: vocabulary.encode(["a b c"], maxlen=4))
