"""``rnn-tui plot``: curves from the card's history, in the terminal and as a PNG."""

from __future__ import annotations

import os

import pytest

from rnn_tui.cli.plot import curve_panels
from train_support import imports_tensorflow, publish_tiny, run_cli, sequence_corpus, text_corpus


@pytest.fixture(scope="module")
def published_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("plot-home")
    publish_tiny(home, text_corpus("binary"), dataset="toy", arch="emb:4 gru:2", epochs=3,
                 name="curves")
    publish_tiny(home, sequence_corpus(), dataset="toyseq", arch="gru:2", epochs=2,
                 name="regress")
    return home


@pytest.fixture
def home(published_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(published_home))
    return published_home


def test_terminal_plot_without_colour_codes_when_piped(home, capsys):
    code, out, _ = run_cli(["plot", "curves", "--width", "100", "--height", "14"], capsys)
    assert code == 0
    assert "\x1b[" not in out
    assert "curves:1: loss" in out and "accuracy" in out and "val_loss" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_png_like_the_tutorials(home, capsys, tmp_path):
    target = tmp_path / "figs" / "curves.png"
    code, out, _ = run_cli(["plot", "curves", "--png", str(target), "--no-terminal"], capsys)
    assert code == 0 and out.strip() == f"saved {target}"
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000


def test_regression_plots_mae(home, capsys):
    code, out, _ = run_cli(["plot", "regress", "--width", "90"], capsys)
    assert code == 0 and "mae" in out


def test_panels():
    assert curve_panels({"loss": [1.0], "val_loss": [1.0], "mae": [0.5], "val_mae": [0.4]}) == \
        [("loss", ["loss", "val_loss"]), ("mae", ["mae", "val_mae"])]


def test_no_terminal_needs_png(home, capsys):
    code, _, err = run_cli(["plot", "curves", "--no-terminal"], capsys)
    assert code == 2 and "--no-terminal needs --png" in err


def test_plot_does_not_import_tensorflow(home, tmp_path):
    assert not imports_tensorflow(["plot", "curves", "--png", str(tmp_path / "x.png")],
                                  os.environ.copy())
