"""``rnn-tui models``: the commands, their output, their errors, and no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from rnn_tui.cli import cli, main
from rnn_tui.registry import Registry


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tmp_path / "shipped"))
    return tmp_path


@pytest.fixture
def user(home):
    return Registry(home / "home" / "models")


@pytest.fixture
def shipped(home):
    return Registry(home / "shipped")  # writable here, read-only through the CLI


def build(payload=b"weights", **card):
    def write(folder):
        (folder / "model.keras").write_bytes(payload)
        return {"task": "binary", "labels": ["부정", "긍정"], "language": "ko",
                "dataset": {"name": "nsmc"}, "metrics": {"test": {"accuracy": 0.8512}},
                "layers": [{"name": "gru", "type": "GRU", "output_shape": "(None, 32)",
                            "params": 6336, "trainable": True}], **card}
    return write


def run(*args):
    result = CliRunner().invoke(cli, ["models", *args], catch_exceptions=False)
    return result


def run_main(capsys, *args):
    """Through ``main``, which turns errors into one line and an exit code."""
    with pytest.raises(SystemExit) as exit_info:
        main(["models", *args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_list_empty(home):
    result = run("list")
    assert result.exit_code == 0
    assert "no models yet" in result.output


def test_list_plain_json_and_rich(user, shipped, monkeypatch):
    user.publish("nsmc-gru", build(), aliases=["best"], tags=["baseline"])
    user.publish("nsmc-gru", build())
    shipped.publish("imdb-sentiment", build(task="binary", labels=["negative", "positive"],
                                            language="en", dataset={"name": "imdb"}))
    result = run("list")
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "TASK", "DATASET", "ACCURACY", "SIZE",
                                "AGE", "SOURCE", "ALIASES/TAGS"]
    assert lines[1].startswith("nsmc-gru") and "85.1%" in lines[1] and "@best=1" in lines[1]
    assert "user" in lines[1] and "2 (2: 1..2)" in lines[1]
    assert lines[2].startswith("imdb-sentiment") and "shipped" in lines[2]
    assert "\x1b[" not in result.output  # no colour codes when not a terminal

    document = json.loads(run("list", "--json").output)
    assert [m["name"] for m in document["models"]] == ["nsmc-gru", "imdb-sentiment"]
    first = document["models"][0]
    assert (first["versions"], first["accuracy"], first["aliases"]) == (
        [1, 2], 0.8512, {"best": 1})
    assert document["warnings"] == []

    monkeypatch.setattr("rnn_tui.cli.models.stdout_is_terminal", lambda: True)
    rich_output = run("list").output
    assert "nsmc-gru" in rich_output and "imdb-sentiment" in rich_output


def test_list_warns_about_a_corrupt_card_and_goes_on(user):
    user.publish("good", build())
    user.publish("bad", build())
    (user.root / "bad" / "1" / "card.json").write_text("{truncated")
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 0
    assert "good" in result.stdout and "bad" not in result.stdout
    assert "warning:" in result.stderr and "bad/1/card.json" in result.stderr
    document = json.loads(CliRunner().invoke(cli, ["models", "list", "--json"]).stdout)
    assert "bad/1/card.json" in document["warnings"][0]["path"]


def test_show(user):
    user.publish("nsmc-gru", build(notes=["trained on half the data"],
                                   architecture={"arch": "gru", "spec": {"layers": [
                                       {"type": "gru", "units": 32}]}}),
                 aliases=["best"], tags=["baseline"])
    text = run("show", "nsmc-gru@best").output
    assert text.splitlines()[0].startswith("nsmc-gru:1  (user)")
    assert "@best" in text and "#baseline" in text and "@latest" in text
    for expected in ("binary", "부정, 긍정", "85.1% on test", "GRU", "6,336", "model.keras",
                     "- trained on half the data", '{"layers": [{"type": "gru", "units": 32}]}'):
        assert expected in text
    document = json.loads(run("show", "nsmc-gru:1", "--json").output)
    assert document["ref"] == "nsmc-gru:1" and document["aliases"] == ["best"]
    assert document["card"]["labels"] == ["부정", "긍정"]


def test_errors_are_one_line_with_exit_code_2(user, capsys):
    user.publish("nsmc-gru", build())
    code, out, err = run_main(capsys, "show", "nsmc-gur")
    assert code == 2 and err.strip() == (
        "rnn-tui: error: no model named 'nsmc-gur' (did you mean nsmc-gru?)")
    code, out, err = run_main(capsys, "show", "../etc")
    assert code == 2 and "path separator" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_main(capsys, "show", "nsmc-gru:4")
    assert code == 2 and "has no version 4" in err
    (user.root / "nsmc-gru" / "1" / "card.json").write_text('{"format": "rnn-tui-card", '
                                                            '"format_version": 9}')
    code, out, err = run_main(capsys, "show", "nsmc-gru")
    assert code == 2 and "nsmc-gru/1/card.json" in err and "format_version 9" in err


def test_rm(user, capsys):
    user.publish("m", build())
    user.publish("m", build())
    user.publish("m", build())
    code, out, err = run_main(capsys, "rm", "m:1")  # no terminal to ask on
    assert code == 2 and "--yes" in err
    assert user.versions("m") == [1, 2, 3]
    assert run("rm", "m:1", "--yes").output == "removed m:1\n"
    result = CliRunner().invoke(cli, ["models", "rm", "m"], input="n\n")
    assert result.exit_code != 0 and user.versions("m") == [2, 3]
    result = run("rm", "m", "--yes")
    assert result.output.splitlines() == ["removed m:2", "removed m:3"]
    assert user.names() == []


def test_shipped_models_are_read_only(shipped, capsys):
    shipped.publish("imdb-sentiment", build())
    code, out, err = run_main(capsys, "rm", "imdb-sentiment", "--yes")
    assert code == 2 and "shipped model and read-only" in err
    code, out, err = run_main(capsys, "alias", "imdb-sentiment", "best", "1")
    assert code == 2 and "read-only" in err
    assert shipped.versions("imdb-sentiment") == [1]


def test_alias_and_tag(user, capsys):
    user.publish("m", build())
    user.publish("m", build())
    assert run("alias", "m", "best", "1").output == "m@best -> m:1\n"
    assert user.resolve("m@best").version == 1
    run("alias", "m", "best", "--remove")
    assert user.aliases("m") == {}
    code, out, err = run_main(capsys, "alias", "m", "best")
    assert code == 2 and "VERSION" in err
    code, out, err = run_main(capsys, "alias", "m", "latest", "1")
    assert code == 2 and "reserved" in err
    run("tag", "m@latest", "keeper")
    assert user.tags("m") == {2: ["keeper"]}
    run("tag", "m:2", "keeper", "--remove")
    assert user.tags("m") == {}


def test_export_and_import_an_archive(user, home, capsys):
    user.publish("m", build(b"\x00weights\xff"))
    archive = home / "m.zip"
    assert run("export", "m", str(archive)).output.strip() == str(archive)
    result = run("import", "copy", str(archive))
    assert result.output.startswith("imported copy:1 (binary, labels: 부정, 긍정)")
    assert user.resolve("copy").file("model.keras").read_bytes() == b"\x00weights\xff"
    code, out, err = run_main(capsys, "import", "copy", str(archive), "--labels", "a,b")
    assert code == 2 and "--labels" in err
    assert run("verify", "copy").output.startswith("copy:1: 1 files match")


def test_an_archives_training_notes_are_no_warning(user, home):
    """An archive's card notes (training notes) are not reported as a reason the model
    cannot predict: only a version without runtime.npz gets that warning (issue 19)."""
    def with_runtime(folder):
        card = build(notes=["length buckets: batches of texts of similar length"])(folder)
        (folder / "runtime.npz").write_bytes(b"weights of the runtime")
        return card

    user.publish("m", with_runtime)
    user.publish("m", build(notes=["runtime.npz not written: a Lambda layer"]))
    for version, warned in ((1, False), (2, True)):
        archive = home / f"m{version}.zip"
        run("export", f"m:{version}", str(archive))
        result = CliRunner().invoke(cli, ["models", "import", f"copy{version}", str(archive)])
        assert result.exit_code == 0, result.output
        assert ("cannot use this model" in result.output) == warned, result.output


def test_list_and_show_never_import_tensorflow(user):
    user.publish("m", build())
    script = textwrap.dedent("""
        import sys
        from rnn_tui.cli import main
        for args in (["models", "list"], ["models", "list", "--json"], ["models", "show", "m"],
                     ["models", "show", "m", "--json"], ["models", "verify", "m"],
                     ["models", "alias", "m", "best", "1"], ["models", "tag", "m", "t"],
                     ["models", "rm", "m:1", "--yes"], ["models", "--help"]):
            try:
                main(args)
            except SystemExit as exit:
                assert not exit.code, (args, exit.code)
        from rnn_tui import backend
        print("LOADED", backend.is_loaded(), "keras" in sys.modules, file=sys.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "LOADED False False" in done.stderr
    assert "removed m:1" in done.stdout


def test_import_an_h5_model(home, user, tmp_path):
    from rnn_tui.backend import keras as load_keras
    from rnn_tui.text.vocabulary import Vocabulary

    keras = load_keras()
    texts = ["정말 재미있다", "너무 지루하다", "재미있다"]
    vocabulary = Vocabulary().fit(texts)
    vocabulary.save(tmp_path / "vocab.json")
    model = keras.Sequential([keras.Input((8,), dtype="int32"),
                              keras.layers.Embedding(vocabulary.size, 4),
                              keras.layers.GRU(3), keras.layers.Dense(1, activation="sigmoid")])
    model.save(tmp_path / "naver_review.h5")
    result = run("import", "naver", str(tmp_path / "naver_review.h5"), "--vocabulary",
                 str(tmp_path / "vocab.json"), "--labels", "부정,긍정", "--language", "ko",
                 "--alias", "best")
    assert result.output.startswith("imported naver:1 (binary, labels: 부정, 긍정)")
    version = user.resolve("naver@best")
    assert version.card["input"]["maxlen"] == 8 and version.card["language"] == "ko"
    result = CliRunner().invoke(cli, ["models", "import", "bare", str(tmp_path / "naver_review.h5")])
    assert result.exit_code == 0 and "no vocabulary" in result.stderr
    assert user.resolve("bare").card["labels"] == ["class_0", "class_1"]
