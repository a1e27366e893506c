"""The corrections corpus: the store itself (appends from many processes, unreadable lines,
undo, CSV), and the commands that write and show it (``predict --label``, ``data show
corrections:MODEL``) as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import subprocess
import sys

import pytest

from infer_helpers import publish_sentiment_pair
from rnn_tui.errors import UserError
from rnn_tui.teach.corrections import Correction, Corrections, check_teachable, write_csv


def _add_many(root, worker, count):
    store = Corrections.for_model("demo", root=root)
    for index in range(count):
        store.add(Correction(f"text {worker}-{index}", "positive", "demo:1"))


def test_appends_from_several_processes_all_land(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(tmp_path, worker, 15))
               for worker in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    found = Corrections.for_model("demo", root=tmp_path).read()
    assert found.problems == []
    assert sorted(c.text for c in found.corrections) == sorted(
        f"text {w}-{i}" for w in range(4) for i in range(15))


def test_unreadable_lines_are_named_skipped_and_kept(tmp_path):
    store = Corrections.for_model("demo", root=tmp_path)
    store.add(Correction("good one", "positive", "demo:1", was="negative"))
    with open(store.path, "ab") as handle:
        handle.write(b'{"text": "no label", "model": "demo:1"}\n\xff\xfe\n[1, 2]\n{"text": "cut')
    store.add(Correction("second", "negative", "demo:1"))
    found = store.read()
    assert [c.text for c in found.corrections] == ["good one", "second"]
    assert [(p.line, p.problem) for p in found.problems] == [
        (2, "'label' must be a non-empty string (skipped)"), (3, "not UTF-8 text (skipped)"),
        (4, "not a JSON object (skipped)"), (5, "not JSON (skipped)")]
    assert str(found.problems[0]).startswith(f"{store.path}:2: ")
    # undo takes the last readable correction; the unreadable lines stay byte for byte
    assert store.undo_last().text == "second"
    assert store.path.read_bytes().endswith(b'[1, 2]\n{"text": "cut\n')
    assert store.undo_last().text == "good one"
    assert store.undo_last() is None
    assert len(store.read().problems) == 4


def test_nothing_yet_and_bad_names(tmp_path):
    assert Corrections.for_model("demo", root=tmp_path).read().corrections == []
    with pytest.raises(UserError):
        Corrections.for_model("../escape", root=tmp_path)


def test_csv_quotes_what_needs_quoting():
    out = io.StringIO()
    write_csv([Correction('say "no", then\nleave', "negative", "demo:2", time="t")], out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["text", "label", "was", "model", "time"],
                    ['say "no", then\nleave', "negative", "", "demo:2", "t"]]


def test_only_text_classifiers_and_their_labels():
    check_teachable("m", "text", "binary", ["negative", "positive"], "positive")
    with pytest.raises(UserError, match="no label 'neutral'; its labels are: negative, pos"):
        check_teachable("m", "text", "binary", ["negative", "positive"], "neutral")
    with pytest.raises(UserError, match="reads numeric sequences"):
        check_teachable("m", "sequence", "binary", ["a", "b"])
    with pytest.raises(UserError, match="regression model"):
        check_teachable("m", "text", "regression", [])


# ------------------------------------------------------------------------------ CLI
@pytest.fixture
def home(isolated_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    publish_sentiment_pair(isolated_home / "models")
    return isolated_home


def run(*args):
    process = subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True,
                             timeout=60, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    return process.returncode, process.stdout.decode(), process.stderr.decode()


def test_predict_label_records_corrections_and_data_show_lists_them(home):
    code, out, err = run("predict", "great film", "bad film", "", "--label", "negative")
    assert code == 2  # the empty text is refused, the others recorded
    assert "argument 3: empty text" in err and "2 correction(s) recorded as negative" in err
    assert len(out.splitlines()) == 2
    code, out, err = run("data", "show", "corrections:imdb-sentiment", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert [(c["text"], c["label"], c["model"]) for c in shown["corrections"]] == [
        ("great film", "negative", "imdb-sentiment:1"), ("bad film", "negative",
                                                          "imdb-sentiment:1")]
    assert all(c["was"] in ("negative", "positive") for c in shown["corrections"])

    path = home / "corrections" / "imdb-sentiment.jsonl"
    with open(path, "a") as handle:
        handle.write("{oops\n")
    code, out, err = run("data", "show", "corrections:imdb-sentiment@best", "--csv", "-")
    assert code == 2
    assert err.strip() == f"rnn-tui: {path}:3: not JSON (skipped)"
    assert out.splitlines()[0] == "text,label,was,model,time" and len(out.splitlines()) == 3
    code, out, err = run("data", "show", "corrections:imdb-sentiment")
    assert code == 2 and "great film" in out and "bad film" in out


def test_predict_label_refusals(home):
    code, out, err = run("predict", "great film", "--label", "neutral")
    assert code == 2 and out == ""
    assert err.strip() == ("rnn-tui: error: imdb-sentiment has no label 'neutral'; its labels "
                           "are: negative, positive")
    assert not (home / "corrections").exists()
    code, _, err = run("data", "show", "imdb", "--csv", "-")
    assert code == 2 and "--csv exports corrections" in err


# ------------------------------------------------------------------------------ teach
def test_teach_refuses_without_corrections_and_without_training_data(home):
    code, out, err = run("teach", "imdb-sentiment")
    assert code == 2 and out == ""
    assert err.startswith("rnn-tui: error: no corrections of imdb-sentiment in ")
    assert "tensorflow" not in err.lower()
    path = home / "corrections" / "imdb-sentiment.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"text": "great film", "label": "neutral", "model": "imdb-sentiment:1"}\n'
                    '{"text": "???", "label": "negative", "model": "imdb-sentiment:1"}\n')
    code, _, err = run("teach", "imdb-sentiment")
    assert code == 2
    assert err.strip() == (f"rnn-tui: error: no corrections of imdb-sentiment that it can "
                           f"learn in {path}: mark wrong verdicts in the app, or `rnn-tui "
                           "predict -m imdb-sentiment TEXT --label LABEL`, then teach")
    run("predict", "-m", "imdb-sentiment", "great film", "--label", "negative")
    code, _, err = run("teach", "imdb-sentiment")  # these versions were not trained here
    assert code == 2 and "imdb-sentiment:1 has no training configuration in its card" in err
    code, _, err = run("teach", "imdb-sentiment", "--alias", "12")
    assert code == 2 and "alias '12' must not be a number" in err
    code, _, err = run("teach", "nope")
    assert code == 2 and "nope" in err


@pytest.mark.slow  # the session's tiny models (~20 s), then a real fine-tuning (~15 s)
def test_teach_publishes_a_taught_version(tiny_text_models, isolated_home, monkeypatch):
    from rnn_tui.registry import open_registries

    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tiny_text_models))
    texts = ["the acting was wonderful", "a brilliant plot", "superb and moving film"]
    code, _, err = run("predict", "-m", "imdb-sentiment", *texts, "--label", "negative")
    assert code == 0, err
    path = isolated_home / "corrections" / "imdb-sentiment.jsonl"
    with open(path, "a") as handle:
        handle.write("not json\n")
    code, out, err = run("teach", "imdb-sentiment", "--plain", "--epochs", "10",
                         "--replay", "100", "--lr", "0.02", "--alias", "taught")
    assert code == 2, err  # published, and the unreadable line named
    assert f"rnn-tui: {path}:4: not JSON (skipped)" in err
    assert "imdb-sentiment:1 is a shipped model: copied into your registry" in out
    registries = open_registries()
    taught = registries.resolve("imdb-sentiment@taught")
    assert taught.ref == "imdb-sentiment:2" and taught.source == "user"
    assert registries.resolve("imdb-sentiment@best").version == 1  # no alias moved unasked
    card = taught.card["teach"]
    right = card["corrections_right_after"]
    # the tiny model's corrected words are its own positive words, which the replay rows
    # (answered as the parent answers them) pull back: most, not always all, flip
    assert right >= 2 and card["corrections_right_before"] == 0
    assert (f"imdb-sentiment:2 (from imdb-sentiment:1): {right}/3 corrections right (was "
            "0/3), test accuracy ") in out
    assert card["parent"] == "imdb-sentiment:1" and card["corrections"] == 3
    assert card["problems"] == 1
    assert card["test_accuracy_before"] == registries.resolve("imdb-sentiment:1").card[
        "metrics"]["test"]["accuracy"]
    assert 0 <= card["test_accuracy_after"] <= 1
    assert taught.card["metrics"]["test"]["accuracy"] == card["test_accuracy_after"]
    code, out, _ = run("predict", "-m", "imdb-sentiment", "--format", "jsonl", *texts)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert {record["model"] for record in records} == {"imdb-sentiment:2"}
    assert [record["label"] for record in records].count("negative") >= 1


# ------------------------------------------------------------------------------ teacher parts
def test_touched_rows_are_those_holding_a_taught_id():
    import numpy as np

    from rnn_tui.teach.teacher import touched

    tokens = np.zeros(10, bool)
    tokens[7] = True
    bigrams = np.zeros(20, bool)
    bigrams[15] = True
    x = np.array([[[3, 4], [7, 5]], [[2, 15], [0, 0]], [[2, 3], [4, 5]], [[0, 0], [0, 0]]])
    assert touched(x, [(0, None, tokens), (1, None, bigrams)]).tolist() == [
        True, True, False, False]
    assert touched(x[..., 0], [(0, None, tokens)]).tolist() == [True, False, False, False]


def test_test_metrics_after_are_the_parents_plus_the_change_on_touched_rows():
    import numpy as np

    from rnn_tui.teach.teacher import _test_after
    from rnn_tui.train.evaluation import class_probabilities, cross_entropy

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    before = rng.random((200, 1))
    after = before.copy()
    rows = np.zeros(200, bool)
    rows[:30] = True
    after[rows] = rng.random((30, 1))  # only these rows may change
    parent = {"rows": 200, "accuracy": float(np.mean((before[:, 0] > 0.5) == labels)),
              "loss": cross_entropy(labels, class_probabilities(before))}
    metrics = _test_after(parent, labels[rows], before[rows], after[rows])
    assert metrics["accuracy"] == pytest.approx(np.mean((after[:, 0] > 0.5) == labels))
    assert metrics["loss"] == pytest.approx(cross_entropy(labels, class_probabilities(after)))


def test_recording_and_showing_corrections_never_import_tensorflow(home):
    script = ("import sys\nfrom rnn_tui.cli import main\n"
              "for argv in (['predict', 'great film', '--label', 'positive'],\n"
              "             ['data', 'show', 'corrections:imdb-sentiment', '--json']):\n"
              "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
              "print('tensorflow' in sys.modules, 'keras' in sys.modules, file=sys.stderr)")
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=60)
    assert process.stderr.strip().endswith("False False"), process.stderr


def test_repeated_corrections_lose_tokens_but_never_pads_and_keep_one_whole_copy():
    import numpy as np

    from rnn_tui.teach.teacher import CONTEXT_DROPOUT, Lesson, _drop_tokens, _mix

    tokens = np.zeros((4, 12), dtype=np.int32)
    tokens[:, :9] = np.arange(10, 19)  # 9 words, then padding (post)
    x = np.stack([tokens, np.where(tokens > 0, tokens + 100, 0)], axis=-1)  # + n-grams
    dropped = _drop_tokens(x, 0.5)
    made_oov = dropped[..., 0] == 1
    assert np.array_equal(made_oov, dropped[..., 1] == 1)  # every stream at a position
    assert not made_oov[:, 9:].any() and (dropped[:, 9:] == 0).all()  # pads stay pads
    assert 0.25 < made_oov[:, :9].mean() < 0.75
    assert np.array_equal(dropped[~made_oov], x[~made_oov])  # the rest is untouched

    lesson = Lesson(corrections=[], x=x, y=np.array([1, 1, 0, 0]), words=36,
                    unknown_words=0, problems=[])
    replay = np.zeros((200, 12, 2), dtype=np.int32)
    rows, targets, repeats = _mix(lesson, replay, np.full((200, 1), 0.3, np.float32))
    assert repeats > 1 and len(rows) == 200 + 4 * repeats == len(targets)
    whole = max(1, (repeats + 1) // 2)
    assert np.array_equal(rows[200:200 + 4 * whole], np.tile(x, (whole, 1, 1)))  # half whole
    assert CONTEXT_DROPOUT > 0 and (rows[200 + 4 * whole:, :, 0] == 1).any()
    assert np.array_equal(targets[200:, 0], np.tile([1.0, 1.0, 0.0, 0.0], repeats))
