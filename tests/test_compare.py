"""``rnn-tui compare``: published models side by side (table, curves, PNG), --arch runs
trained here, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rnn_tui.compare.facts import model_facts
from rnn_tui.compare.view import overlay_panels
from train_support import imports_tensorflow, publish_tiny, run_cli, text_corpus, write_csv


@pytest.fixture(scope="module")
def published_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("compare-home")
    for arch in ("simplernn", "gru"):
        publish_tiny(home, text_corpus("binary"), dataset="toy", validation=0.25,
                     arch=f"emb:8 {arch}:4", name=f"toy-{arch}", epochs=3)
    return home


@pytest.fixture
def home(published_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(published_home))
    return published_home


def test_facts_come_from_the_card_and_the_runtime(home):
    facts = model_facts("toy-gru")
    card = json.loads((home / "models" / "toy-gru" / "1" / "card.json").read_text())
    assert facts.ref == "toy-gru:1" and facts.test == card["metrics"]["test"]
    assert facts.params == card["params"]["total"]
    assert facts.size_bytes == sum(path.stat().st_size for path in
                                   (home / "models" / "toy-gru" / "1").iterdir())
    assert facts.train_s == card["training"]["train_s"]
    assert len(facts.history["val_loss"]) == 3
    assert facts.keystroke_ms is not None and facts.keystroke_ms > 0


def test_table_curves_and_png(home, capsys, tmp_path):
    png = tmp_path / "cmp.png"
    code, out, err = run_cli(["compare", "toy-simplernn", "toy-gru@best", "--png", str(png)],
                             capsys)
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("model"))
    for column in ("test accuracy", "test loss", "params", "size", "train", "ms/key"):
        assert column in header
    assert any(line.startswith("toy-simplernn:1") for line in lines)
    assert any(line.startswith("toy-gru:1") for line in lines)
    assert "val_loss" in out and "val_accuracy" in out  # the overlaid panels' titles
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    models = [model_facts(ref, latency=False) for ref in ("toy-simplernn", "toy-gru")]
    assert overlay_panels(models) == [("val_loss", "val_loss"),
                                      ("val_accuracy", "val_accuracy")]


def test_comparing_published_models_needs_no_tensorflow(home):
    env = {**os.environ, "RNN_TUI_HOME": str(home)}
    assert not imports_tensorflow(["compare", "toy-gru", "toy-simplernn"], env)
    assert not imports_tensorflow(["compare", "--help"], env)
    assert not imports_tensorflow(["tune", "--help"], env)


@pytest.mark.parametrize("args, words", [
    (["compare"], "nothing to compare"),
    (["compare", "toy-gru", "--arch", "lstm", "--dataset", "imdb"], "not both"),
    (["compare", "--arch", "lstm"], "--arch runs need --dataset"),
    (["compare", "--arch", "transformer", "--dataset", "imdb"], "transformer"),
    (["compare", "toy-gru", "--png", "/nonexistent-dir/x.png"], "does not exist"),
    (["compare", "no-such-model"], "no-such-model"),
])
def test_bad_input_is_one_line_exit_2(home, capsys, args, words):
    code, _, err = run_cli(args, capsys)
    assert code == 2, err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_arch_runs_are_trained_seeded_and_compared(tmp_path):
    data = write_csv(tmp_path / "reviews.csv", text_corpus("binary", train=64, test=16))
    done = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "compare", "--arch", "simplernn", "--arch", "gru",
         "--dataset", str(data), "--epochs", "2", "--maxlen", "10", "--plain"],
        capture_output=True, text=True, timeout=600, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert "published compare-reviews-simplernn:1" in done.stdout
    assert "published compare-reviews-gru:1" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("compare-reviews-")]
    assert [row.split()[0] for row in rows] == ["compare-reviews-simplernn:1",
                                                "compare-reviews-gru:1"]
    home = os.environ["RNN_TUI_HOME"]
    for arch in ("simplernn", "gru"):
        card = json.loads(open(f"{home}/models/compare-reviews-{arch}/1/card.json").read())
        assert card["training"]["seed"] == 42 and card["training"]["epochs"] == 2
