"""Texts from model cards reach the terminal only through the one escaping rule
(rnn_tui.terminal): an imported archive's labels, notes, dataset name, layer names and
metric names can hold escape sequences (clear screen, OSC window titles and links) and
bidi overrides. `models import`, `summary`, `evaluate`, `plot` and the TUI's summary pane
must show them as visible stand-ins.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from reliability_support import cli
from rnn_tui.registry import Registry

RAW_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]"
                         rb"|\xe2\x81[\xa6-\xa9]")
OSC_TITLE = "\x1b]0;PWNED\x07"
CLEAR = "\x1b[2J"
OSC_LINK = "\x1b]8;;http://evil.example/\x1b\\"


def hostile_card() -> dict:
    return {"task": "binary", "labels": [f"{OSC_TITLE}neg", f"pos\u202e{CLEAR}"],
            "language": f"en{CLEAR}",
            "notes": [f"{OSC_LINK}click me\u009b31m"],
            "dataset": {"name": f"imdb{OSC_TITLE}", "form": f"csv\u2066x"},
            "input": {"kind": "text", "maxlen": 10, "padding": "post", "truncating": "pre"},
            "layers": [{"name": f"dense{CLEAR}", "type": f"Dense{OSC_TITLE}",
                        "output_shape": "(None, 2)\x1b[31m", "params": 4}],
            "metrics": {f"test{CLEAR}": {f"accuracy{OSC_TITLE}": 0.5}},
            "history": {f"loss{CLEAR}": [1.0, 0.5], "loss": [1.0, 0.6]}}


@pytest.fixture
def hostile_archive(tmp_path) -> Path:
    """An exported archive whose card holds escape sequences (files: one small blob)."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "model.keras").write_bytes(b"not used by these commands")
    registry = Registry(tmp_path / "elsewhere")
    version = registry.publish("evil", source, card=hostile_card())
    return registry.export(version.ref, tmp_path / "evil.tar.gz")


def assert_no_raw_control(done) -> None:
    assert "Traceback" not in done.stderr.decode("utf-8", "replace"), done.stderr
    assert not RAW_CONTROL.search(done.stdout), done.stdout
    assert not RAW_CONTROL.search(done.stderr), done.stderr


def test_models_import_and_summary_escape_the_card(hostile_archive, tmp_path):
    home = tmp_path / "home"
    done = cli(["models", "import", "evil", str(hostile_archive)], home, timeout=60)
    assert done.returncode == 0, done.stderr
    assert_no_raw_control(done)
    out = done.stdout.decode()
    assert "␛]0;PWNED␇neg" in out and "pos�␛[2J" in out
    assert "click me" in done.stderr.decode()  # the note, as a warning
    for args in (["summary", "evil"], ["models", "show", "evil"], ["models", "list"],
                 ["plot", "evil", "--width", "80", "--height", "12"]):
        done = cli(args, home, timeout=60, COLUMNS="100")
        assert done.returncode == 0, (args, done.stderr)
        assert_no_raw_control(done)
    done = cli(["summary", "evil"], home, timeout=60)
    out = done.stdout.decode()
    assert "imdb␛]0;PWNED␇" in out and "dense␛[2J" in out and "accuracy␛]0;PWNED␇" in out


def test_the_tui_summary_pane_escapes_the_card():
    from rich.console import Console

    from rnn_tui.tui.widgets.summary_pane import card_view

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    console.print(card_view("evil:1", hostile_card()))
    shown = console.file.getvalue().encode()
    assert not RAW_CONTROL.search(shown), shown
    assert "accuracy␛]0;PWNED␇" in console.file.getvalue()


def test_the_evaluation_report_escapes_labels():
    from rich.console import Console

    from rnn_tui.cli.evaluate import render_report

    labels = hostile_card()["labels"]
    row = {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    report = {"ref": "evil:1", "dataset": f"imdb{CLEAR}", "split": "test", "rows": 2,
              "task": "binary", "loss": 0.1, "accuracy": 1.0,
              "per_class": [{"label": label, **row} for label in labels],
              "macro": row, "weighted": row, "samples": 2,
              "labels": labels, "confusion_matrix": [[1, 0], [0, 1]],
              "top_confusions": [{"true": labels[0], "predicted": labels[1], "count": 1}]}
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system=None)
    render_report(report, console)
    shown = console.file.getvalue()
    assert not RAW_CONTROL.search(shown.encode()), shown
    assert "␛]0;PWNED␇neg" in shown


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_training_output_escapes_names_from_the_data(mode):
    """Training notes quote file names and values from the corpus (`rows read from NAME`)."""
    from rnn_tui.train.events import Note, RunFailed
    from rnn_tui.train.render import renderer_for

    stream = io.StringIO()
    renderer = renderer_for(mode, stream)
    renderer(Note(text=f"3 rows read from {CLEAR}evil{OSC_TITLE}.csv", topic="data"))
    renderer(RunFailed(message=f"x.csv:2: label {OSC_LINK}"))
    shown = stream.getvalue()
    assert not RAW_CONTROL.search(shown.encode()), shown
    assert "␛[2Jevil␛]0;PWNED␇.csv" in shown
