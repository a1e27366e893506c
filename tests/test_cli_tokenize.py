"""``rnn-tui tokenize``: a text as the model reads it (tokens, ids, OOV, padded row)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.text import Vocabulary
from train_support import imports_tensorflow, run_cli

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
TEXTS = ["a good film", "a bad film", "good acting, good plot"]


@pytest.fixture
def vocabulary_file(tmp_path):
    vocabulary = Vocabulary(num_words=5).fit(TEXTS)  # keeps <OOV>, good, a, film
    path = tmp_path / "vocabulary.json"
    vocabulary.save(path)
    return vocabulary, path


def test_tokens_ids_oov_and_padded_row_match_the_vocabulary(vocabulary_file, capsys):
    vocabulary, path = vocabulary_file
    text = "A good PLOT, a zebra film"
    code, out, err = run_cli(["tokenize", str(path), text, "--maxlen", "8", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["tokens"] == vocabulary.tokenize(text)
    assert report["ids"] == vocabulary.texts_to_sequences([text])[0]
    # plot is in word_index but beyond num_words: OOV as for Keras; zebra is unknown
    assert report["oov"] == ["plot", "zebra"]
    assert report["padded"] == vocabulary.encode([text], maxlen=8).tolist()[0]
    assert (report["padding"], report["truncating"]) == ("pre", "pre")


def test_text_output_marks_oov_and_prints_the_row(vocabulary_file, capsys):
    vocabulary, path = vocabulary_file
    code, out, _ = run_cli(["tokenize", str(path), "good zebra film", "--maxlen", "5",
                            "--padding", "post"], capsys)
    lines = out.splitlines()
    ids = vocabulary.texts_to_sequences(["good zebra film"])[0]
    assert code == 0
    assert lines[1] == "tokens  good | zebra* | film"
    assert lines[2] == f"ids     {ids}"
    assert lines[3] == "OOV     zebra (* above; id 1 = <OOV>)"
    assert lines[-1] == str(np.array([ids + [0, 0]]))


def test_a_shipped_model_uses_its_card_settings(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(SHIPPED_DIR))
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path))
    code, out, err = run_cli(["tokenize", "imdb-sentiment", "a wonderful film", "--json"],
                             capsys)
    assert code == 0, err
    report = json.loads(out)
    card = json.loads((SHIPPED_DIR / "imdb-sentiment" / "1" / "card.json").read_text())
    assert report["maxlen"] == card["input"]["maxlen"]
    assert report["padding"] == card["input"]["padding"]
    assert len(report["padded"]) == card["input"]["maxlen"]
    assert set(report["streams"]) == {"tokens", "ngrams2"}
    assert report["streams"]["tokens"] == report["ids"]


@pytest.mark.parametrize("args, message", [
    (["tokenize", "no-such-model", "x"], "no-such-model"),
])
def test_errors_are_one_line(capsys, args, message):
    code, _, err = run_cli(args, capsys)
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1


def test_tokenize_does_not_import_tensorflow(vocabulary_file):
    _, path = vocabulary_file
    assert not imports_tensorflow(["tokenize", str(path), "good film"], os.environ.copy())
