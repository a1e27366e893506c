"""Hostile input: model files that would run code, names and links that would leave the
registry, texts with escape sequences and odd scripts, broken dataset files.

Every refusal must be one clear line (exit code 2), never a traceback, and nothing may be
written outside the registry or run from a model file the user did not trust. The models are
the tiny real ones of conftest's ``tiny_text_models`` (trained once per session).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from reliability_support import cli
from rnn_tui.errors import NotFoundError
from rnn_tui.registry import Registry
from train_support import run_cli

# Bytes that must never reach a terminal from the input: C0 controls but newline (ESC, BEL,
# CR, BS, NUL ...), DEL, C1 controls (UTF-8 C2 80..C2 9F) and bidi overrides/isolates.
RAW_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]"
                         rb"|\xe2\x81[\xa6-\xa9]")


@pytest.fixture
def home(isolated_home, monkeypatch):
    """The isolated home, without the shipped registry."""
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    return isolated_home


@pytest.fixture
def with_models(home, tiny_text_models):
    """The isolated home with copies of the tiny English and topic models."""
    registry = Registry(home / "models")
    for name in ("imdb-sentiment", "reuters-topics"):
        registry.publish(name, tiny_text_models / name / "1")
    return home


# ---------------------------------------------------------------------------- model files
@pytest.fixture(scope="module")
def keras_module():
    from rnn_tui.backend import keras

    return keras()


def lambda_model(keras, marker: Path):
    """A model whose Lambda layer, when run, writes ``marker`` (proof that code ran)."""
    inputs = keras.Input((6, 2))
    # the path as a constant in the function's code (Keras cannot reload default arguments)
    touch = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x * 1.0)[1]")
    touched = keras.layers.Lambda(touch)(inputs)
    flat = keras.layers.Flatten()(touched)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(flat))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_model_file_runs_no_code_unless_trusted(home, tmp_path, keras_module, capsys, suffix):
    marker = tmp_path / "code-ran"
    path = tmp_path / f"lambda{suffix}"
    lambda_model(keras_module, marker).save(path)
    marker.unlink()  # building the model ran it once, here; from now on only loading may

    code, out, err = run_cli(["models", "import", "lam", str(path)], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{path}: refused a Lambda layer in safe mode" in err and "--trust" in err
    assert len(err.strip().splitlines()) == 1
    assert not marker.exists()
    assert Registry(home / "models").names() == []

    code, out, err = run_cli(["models", "import", "lam", str(path), "--trust"], capsys)
    assert code == 0, err
    assert marker.exists()  # explicit trust: now, and only now, its code has run
    marker.unlink()
    from rnn_tui.registry import load_keras_model, open_registries

    with pytest.raises(Exception, match="refused a Lambda layer") as refused:
        load_keras_model(open_registries().resolve("lam"))
    assert "model.keras" in str(refused.value)
    assert not marker.exists()


def rewrite_config(source: Path, target: Path, change) -> Path:
    """A copy of a .keras file with its config.json changed by ``change(config)``."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else data)
    return target


def dense_layer(config):
    return next(layer for layer in config["config"]["layers"]
                if layer["class_name"] == "Dense")


CRAFTED = {
    # an activation that names os.system
    "os-system": lambda c: dense_layer(c)["config"].update(activation={
        "module": "os", "class_name": "function", "config": "system",
        "registered_name": "system"}),
    # builtins.exec as an activation
    "exec": lambda c: dense_layer(c)["config"].update(activation={
        "module": "builtins", "class_name": "function", "config": "exec",
        "registered_name": "exec"}),
    # a "layer" that is subprocess.Popen(["touch", ...])
    "popen": lambda c: dense_layer(c).update(module="subprocess", class_name="Popen",
                                             config={"args": ["touch", "/tmp/rnn-tui-pwned"]}),
    # a class nobody registered
    "custom": lambda c: dense_layer(c).update(module="evil.layers", class_name="Backdoor",
                                              registered_name="evil>Backdoor"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_configs_naming_arbitrary_code_are_refused(home, tmp_path, keras_module, capsys, case):
    inputs = keras_module.Input((4,))
    model = keras_module.Model(inputs, keras_module.layers.Dense(1, activation="sigmoid")(inputs))
    model.save(tmp_path / "plain.keras")
    crafted = rewrite_config(tmp_path / "plain.keras", tmp_path / f"{case}.keras", CRAFTED[case])
    code, _, err = run_cli(["models", "import", "crafted", str(crafted)], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{crafted}: refused unknown custom object" in err
    assert Registry(home / "models").names() == []
    assert not Path("/tmp/rnn-tui-pwned").exists()


# ---------------------------------------------------------------------------- escapes
ESCAPING_NAMES = ["../evil", "..", "a/../../evil", "/etc/passwd", "a/b", "a\\b", ".hidden",
                  "Evil", "nul\x00byte", "x" * 65, "", "évil", "name\nnext"]


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_names_that_would_leave_the_registry_are_refused(home, tmp_path, capsys, name):
    model_file = tmp_path / "model.keras"
    model_file.write_bytes(b"never read")
    commands = [["models", "import", name, str(model_file)], ["models", "show", name],
                ["models", "rm", name, "--yes"], ["models", "alias", name, "best", "1"],
                ["models", "tag", name, "x"], ["models", "verify", name],
                ["models", "export", name, str(tmp_path / "out.tar.gz")],
                ["train", "--dataset", "multiplication", "--name", name]]
    if not name:  # `train --name ""` means "the default name" (see the report)
        commands.pop()
    for command in commands:
        code, out, err = run_cli(command, capsys)
        assert code == 2, (command, out, err)
        assert "Traceback" not in err and "internal error" not in err
        assert len(err.strip().splitlines()) == 1, err
    # nothing was created anywhere: not in the home, not beside it
    assert not (home / "models").exists() or os.listdir(home / "models") == []
    assert not (home / "runs").exists() or os.listdir(home / "runs") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    assert not (home.parent / "evil").exists()


def outside_copy(tmp_path: Path, source: Path) -> Path:
    """A complete, valid-looking version folder outside the registry."""
    import shutil

    target = tmp_path / "outside" / "1"
    shutil.copytree(source, target)
    return target


def test_links_in_the_registry_are_never_followed(with_models, tmp_path, capsys):
    root = with_models / "models"
    good = root / "imdb-sentiment" / "1"
    outside = outside_copy(tmp_path, good)
    # a version folder and a whole model folder that are links to a folder outside
    (root / "imdb-sentiment" / "7").symlink_to(outside, target_is_directory=True)
    (root / "linked").symlink_to(outside.parent, target_is_directory=True)
    registry = Registry(root)
    assert registry.versions("imdb-sentiment") == [1]
    assert "linked" not in registry.names()
    with pytest.raises(NotFoundError):
        registry.resolve("imdb-sentiment:7")
    code, out, err = run_cli(["models", "list"], capsys)
    assert code == 0 and "imdb-sentiment" in out and "linked" not in out
    assert f"{root / 'imdb-sentiment' / '7'}: skipped: a symbolic link" in err
    assert f"{root / 'linked'}: skipped: a symbolic link" in err
    code, _, err = run_cli(["predict", "-m", "imdb-sentiment:7", "great"], capsys)
    assert code == 2 and "has no version 7" in err


@pytest.mark.parametrize("file_name", ["model.keras", "runtime.npz", "vocabulary.json",
                                       "card.json"])
def test_a_file_linked_out_of_a_version_is_refused(with_models, tmp_path, capsys, file_name):
    root = with_models / "models"
    version = root / "imdb-sentiment" / "1"
    target = tmp_path / "elsewhere" / file_name
    target.parent.mkdir()
    target.write_bytes((version / file_name).read_bytes())  # same bytes: only the link is wrong
    (version / file_name).unlink()
    (version / file_name).symlink_to(target)
    if file_name == "card.json":
        code, out, err = run_cli(["models", "list"], capsys)
        assert code == 0 and "reuters-topics" in out and "imdb-sentiment" not in out
        assert "symbolic link" in err and str(version / file_name) in err
    code, _, err = run_cli(["models", "verify", "imdb-sentiment"], capsys)
    assert code == 2 and "symbolic link" in err and str(version / file_name) in err
    code, _, err = run_cli(["predict", "-m", "imdb-sentiment", "great"], capsys)
    if file_name == "model.keras":  # predict never reads the Keras file
        assert code == 0, err
    else:
        assert code == 2 and "symbolic link" in err, err
        assert str(version / file_name) in err
    code, _, err = run_cli(["predict", "-m", "reuters-topics", "oil prices"], capsys)
    assert code == 0, err  # the rest of the registry keeps working


def test_an_etc_passwd_link_is_not_read_as_a_model(with_models, capsys):
    version = with_models / "models" / "imdb-sentiment" / "1"
    (version / "runtime.npz").unlink()
    (version / "runtime.npz").symlink_to("/etc/passwd")
    code, _, err = run_cli(["predict", "-m", "imdb-sentiment", "great"], capsys)
    assert code == 2 and "runtime.npz is a symbolic link" in err
    assert "root:" not in err


def test_a_folder_given_to_predict_must_be_a_model(with_models, capsys):
    code, _, err = run_cli(["predict", "-m", "/etc", "great"], capsys)
    assert code == 2 and "/etc/card.json: the model card is missing" in err


# ---------------------------------------------------------------------------- texts
HOSTILE_TEXTS = {
    "clear screen": "great \x1b[2J film",
    "window title": "great \x1b]0;pwned\x07 film",
    "carriage return": "great film\rterrible",
    "backspaces": "great\x08\x08\x08\x08\x08awful",
    "nul": "great\x00film",
    "del and c1": "great\x7f\x9b31m film",
    "bidi override": "great \u202etxet desrever\u202c film",
    "bidi isolate": "great \u2067isolate\u2069 film",
    "markup": "[bold red]great[/] film",
    "emoji": "great film 🎬🍿👍🏽 👨‍👩‍👧",
    "arabic": "فيلم رائع great",
    "hebrew": "סרט נהדר wonderful",
    "mixed scripts": "wonderful 최고 ไทย Ελληνικά кино",
    "combining": "wonde\u0301rful film",
}


def test_hostile_texts_through_predict_never_reach_the_terminal_raw(with_models):
    texts = [text for text in HOSTILE_TEXTS.values() if "\x00" not in text]  # argv: no NUL
    done = cli(["predict", "-m", "imdb-sentiment", *texts], with_models, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode("utf-8").splitlines()
    assert len(lines) == len(texts)
    assert not RAW_CONTROL.search(done.stdout), done.stdout
    assert "[bold red]great[/] film" in lines[texts.index(HOSTILE_TEXTS["markup"])]
    assert "␛[2J" in lines[0] and "␛]0;pwned␇" in lines[1]
    # JSON keeps the text exactly (escaped the JSON way), for programs
    done = cli(["predict", "-m", "imdb-sentiment", "--format", "jsonl", *texts], with_models)
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["text"] for r in records] == texts
    assert not RAW_CONTROL.search(done.stdout), done.stdout  # C1, bidi as \uXXXX escapes
    done = cli(["predict", "-m", "imdb-sentiment", "--format", "tsv", *texts], with_models)
    assert done.returncode == 0 and not RAW_CONTROL.search(
        done.stdout.replace(b"\t", b" ").replace(b"\n", b" ")), done.stdout
    for record in records:
        assert abs(sum(record["probabilities"].values()) - 1) < 1e-5


def test_bad_lines_on_stdin_are_reported_one_by_one(with_models):
    lines = [b"great film", b"", b"   \t ", b"\xff\xfe broken utf-8", b"nul\x00inside",
             b"\x1b[31mred\x1b[0m", b"only \xc3", "최고의 영화 🎬".encode(), b"z" * 1_000_000,
             b"\r"]
    done = cli(["predict", "-m", "imdb-sentiment"], with_models, input=b"\n".join(lines) + b"\n",
               timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err
    assert not RAW_CONTROL.search(done.stdout) and not RAW_CONTROL.search(done.stderr)
    reported = sorted(int(n) for n in re.findall(r"line (\d+):", err))
    assert reported == [2, 3, 4, 7, 10], err
    assert "line 4: not valid UTF-8 (byte 0xff at byte 1)" in err
    assert "line 2: empty text" in err
    answered = done.stdout.decode().splitlines()
    assert len(answered) == len(lines) - len(reported)
    assert "z" * 50 in answered[-1]  # the 1 MB line was classified (its preview is cut)
    assert len(answered[-1]) < 200


async def test_hostile_texts_in_the_app_are_shown_as_text(tiny_text_models, monkeypatch):
    from textual import events

    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.widgets.chat_input import ChatInput
    from tui_helpers import transcript_text, wait_for

    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tiny_text_models))
    app = RnnTuiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.book is not None and app.book.is_loaded(
            "imdb-sentiment"), what="the models")
        chat_input = app.query_one("#input", ChatInput)
        for text in [*HOSTILE_TEXTS.values(), "wonderful " * 2_000]:
            chat_input.focus()
            chat_input.post_message(events.Paste(text))
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
        await wait_for(pilot, lambda: "🍿" in transcript_text(app, 120), what="the entries")
        shown = transcript_text(app, 120)
        assert "[bold red]great[/] film" in shown  # markup stays literal
        for raw in ("\x1b", "\x07", "\x08", "\x00", "\x7f", "\x9b", "\r"):
            assert raw not in shown, repr(raw)
        assert "␛[2J" in shown and "␛]0;pwned␇" in shown
        assert "👨‍👩‍👧" in shown and "최고" in shown and "רט" in shown


# ---------------------------------------------------------------------------- dataset files
def hostile_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what its one-line error must say)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {
        "unclosed quote": ("a.csv", b'text,label\n"never closed,1\nok,0\n', "a.csv:3:"),
        "extra column": ("b.csv", b"text,label\ngood,1\nbad,0,extra\n", "b.csv:3: expected 2 fields"),
        "missing column": ("c.tsv", b"text\tlabel\ngood\t1\nbad\n", "c.tsv:3: expected 2 fields"),
        "empty label": ("d.csv", b"text,label\ngood,\nok,0\n", "d.csv:2: empty label"),
        "latin-1": ("e.csv", "text,label\ncaf\xe9,1\n".encode("latin-1"), "e.csv:2: not valid UTF-8"),
        "utf-16": ("f.csv", "text,label\na,1\n".encode("utf-16"), "f.csv:1: not valid UTF-8"),
        "huge field": ("g.csv", b"text,label\n" + b"x" * 2_000_000 + b",1\n", "g.csv:2:"),
        "bad json line": ("h.jsonl", b'{"text": "a", "label": 1}\n{oops\n', "h.jsonl:2: not valid JSON"),
        "json not an object": ("i.jsonl", b"[1, 2]\n", "i.jsonl:1: expected a JSON object"),
        "binary garbage": ("j.csv", bytes(range(256)) * 40, "j.csv:2: not valid UTF-8"),
        "empty file": ("k.csv", b"", "k.csv: empty file"),
        "header only": ("l.csv", b"text,label\n", "l.csv: no texts found"),
        "no label column": ("m.csv", b"review,stars\ngood,5\n", "m.csv"),
        "non-numeric regression": ("n.csv", b"text,label\ngood,high\n", "n.csv:2:"),
    }
    written = {}
    for case, (name, data, expected) in cases.items():
        path = folder / name
        path.write_bytes(data)
        written[case] = (path, expected)
    return written


def test_bad_dataset_files_give_file_and_line(tmp_path, capsys):
    files = hostile_files(tmp_path / "bad")
    for case, (path, expected) in files.items():
        options = ["-o", "task=regression"] if case == "non-numeric regression" else []
        code, _, err = run_cli(["data", "show", str(path), *options], capsys)
        assert code == 2, (case, err)
        assert "Traceback" not in err and "internal error" not in err, (case, err)
        assert len(err.strip().splitlines()) == 1, (case, err)
        assert expected in err, (case, err)


@pytest.mark.slow  # imports TensorFlow (the training command) in this process
def test_bad_dataset_files_refused_by_train(home, tmp_path, capsys):
    files = hostile_files(tmp_path / "bad")
    for case, (path, expected) in files.items():
        if case == "non-numeric regression":
            continue  # a task option of `data show`
        code, _, err = run_cli(["train", "--dataset", str(path), "--epochs", "1",
                                "--name", "hostile"], capsys)
        assert code == 2, (case, err)
        assert "Traceback" not in err and "internal error" not in err, (case, err)
        assert expected in err, (case, err)
    assert not (home / "models").exists() or Registry(home / "models").names() == []


def test_labels_out_of_range_in_a_publisher_format(tmp_path, capsys, monkeypatch):
    data_home = tmp_path / "data"
    (data_home / "nsmc").mkdir(parents=True)
    for split in ("train", "test"):
        (data_home / "nsmc" / f"ratings_{split}.txt").write_text(
            "id\tdocument\tlabel\n1\t좋다\t1\n2\t별로\t7\n", encoding="utf-8")
    monkeypatch.setenv("RNN_TUI_DATA", str(data_home))
    code, _, err = run_cli(["data", "show", "nsmc"], capsys)
    assert code == 2 and "Traceback" not in err
    assert "ratings_train.txt:3:" in err or "ratings_test.txt:3:" in err


def test_dataset_texts_are_shown_escaped(tmp_path, capsys):
    path = tmp_path / "shown.csv"
    rows = ['"\x1b[2J\x1b]0;title\x07",1,train', '"[bold red]x[/] \u202eevil",0,train',
            "plain,1,test", "more,0,test"]
    path.write_text("text,label,split\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run_cli(["data", "show", str(path), "-n", "4"], capsys)
    assert code == 0, err
    assert not RAW_CONTROL.search(out.encode()), out
    assert "␛[2J␛]0;title␇" in out and "[bold red]x[/]" in out


def test_a_folder_named_like_a_model_does_not_hide_it(with_models, tmp_path):
    # e.g. a project folder called imdb-sentiment in the current directory
    (tmp_path / "imdb-sentiment").mkdir()
    (tmp_path / "imdb-sentiment" / "card.json").write_text("{not a card")
    import subprocess
    import sys

    from reliability_support import cli_env

    done = subprocess.run([sys.executable, "-m", "rnn_tui", "predict", "--format", "jsonl",
                           "a wonderful film"], cwd=tmp_path, capture_output=True,
                          env=cli_env(with_models), timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "imdb-sentiment:1"
    # spelt as a path, it is the folder
    done = subprocess.run([sys.executable, "-m", "rnn_tui", "predict", "-m", "./imdb-sentiment",
                           "a wonderful film"], cwd=tmp_path, capture_output=True,
                          env=cli_env(with_models), timeout=120)
    assert done.returncode == 2 and b"card.json:1: the model card is not valid JSON" in done.stderr
