"""``rnn-tui summary``: the Keras layer table and the card, without TensorFlow."""

from __future__ import annotations

import json
import os

import pytest

from train_support import imports_tensorflow, publish_tiny, run_cli, text_corpus


@pytest.fixture(scope="module")
def published_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("summary-home")
    publish_tiny(home, text_corpus("binary"), dataset="toy", arch="emb:8 bigru:4 pool:max",
                 name="tiny")
    publish_tiny(home, text_corpus("binary"), dataset="toy", arch="onehot simplernn:3",
                 name="onehot", maxlen=6)
    return home


@pytest.fixture
def home(published_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(published_home))
    return published_home


def test_layer_table_and_card(home, capsys):
    code, out, _ = run_cli(["summary", "tiny"], capsys)
    assert code == 0
    assert "tiny:1" in out and "@best" in out
    assert "embedding (Embedding)" in out and "(None, 10, 8)" in out
    assert "bigru_1 (Bidirectional)" in out and "(None, 10, 8)" in out
    assert "global_max_pooling1d_1 (GlobalMaxPooling1D)" in out
    card = json.loads((home / "models" / "tiny" / "1" / "card.json").read_text())
    total = card["params"]["total"]
    assert f"Total params: {total:,} ({total * 4 / 1024:.2f} KB)" in out
    for section in ("Dataset", "Preprocessing", "Hyperparameters", "Metrics (test)", "Training"):
        assert section in out
    assert "emb:8 bigru:4 pool:max" in out
    # how the runtime answers a live input, from the card: this one recomputes
    assert "Prediction runtime" in out
    assert "(Bidirectional) also reads the text backwards" in " ".join(out.split())
    assert "(compiled loops)" in out


def test_a_streaming_model_says_so(home, capsys):
    code, out, _ = run_cli(["summary", "onehot"], capsys)
    assert code == 0
    assert "each new token costs one step per recurrent layer" in " ".join(out.split())


def test_frozen_layers_are_marked(home, capsys):
    code, out, _ = run_cli(["summary", "onehot"], capsys)
    assert code == 0
    assert "one_hot (Embedding) [frozen]" in out
    assert "Non-trainable params: " in out


def test_one_hot_summary_gives_the_tutorials_count(home, capsys):
    """The tutorial one-hot encodes outside the model: its summary counts total - depth²."""
    card = json.loads((home / "models" / "onehot" / "1" / "card.json").read_text())
    depth = next(layer for layer in card["layers"] if layer["name"] == "one_hot")["params"]
    code, out, _ = run_cli(["summary", "onehot"], capsys)
    text = " ".join(out.split())
    assert code == 0 and f"frozen identity Embedding ({depth:,} fixed 0/1 entries" in text
    assert f"before the model counts {card['params']['total'] - depth:,} params" in text
    code, out, _ = run_cli(["summary", "tiny"], capsys)
    assert "to_categorical" not in out


def test_json_is_the_card(home, capsys):
    code, out, _ = run_cli(["summary", "tiny:1", "--json"], capsys)
    document = json.loads(out)
    assert code == 0 and document["ref"] == "tiny:1"
    assert [layer["name"] for layer in document["card"]["layers"]][:2] == ["tokens", "embedding"]


def test_unknown_model_is_one_line(home, capsys):
    code, out, err = run_cli(["summary", "tinny"], capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == ["rnn-tui: error: no model named 'tinny' (did you mean tiny?)"]


def test_summary_does_not_import_tensorflow(home):
    assert not imports_tensorflow(["summary", "tiny"], os.environ.copy())
