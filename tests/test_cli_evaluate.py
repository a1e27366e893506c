"""``rnn-tui evaluate``: loss, accuracy, per-class scores and confusions of a published model."""

from __future__ import annotations

import json

import pytest

from train_support import publish_tiny, run_cli, text_corpus, write_csv


@pytest.fixture(scope="module")
def published_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("evaluate-home")
    data = tmp_path_factory.mktemp("evaluate-data")
    binary = write_csv(data / "reviews.csv", text_corpus("binary", train=64, test=20))
    topics = write_csv(data / "topics.csv", text_corpus("multiclass", train=96, test=40))
    publish_tiny(home, dataset=str(binary), arch="emb:8 gru:4", epochs=3, name="reviews")
    publish_tiny(home, dataset=str(topics), arch="emb:8 gru:8", epochs=3, name="topics")
    return home


@pytest.fixture
def home(published_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(published_home))
    return published_home


def card_of(home, name):
    return json.loads((home / "models" / name / "1" / "card.json").read_text())


def test_binary_report(home, capsys):
    code, out, _ = run_cli(["evaluate", "reviews"], capsys)
    assert code == 0
    assert "reviews:1 on" in out and "test (20 rows)" in out
    assert "accuracy" in out and "precision" in out and "negative" in out
    assert "confusion matrix" in out


def test_json_agrees_with_the_card(home, capsys):
    code, out, _ = run_cli(["evaluate", "reviews", "--json"], capsys)
    report = json.loads(out)
    card = card_of(home, "reviews")
    assert code == 0 and report["split"] == "test" and report["rows"] == 20
    assert report["accuracy"] == pytest.approx(card["metrics"]["test"]["accuracy"], abs=1e-6)
    assert report["loss"] == pytest.approx(card["metrics"]["test"]["loss"], rel=1e-4)
    assert sum(map(sum, report["confusion_matrix"])) == 20


def test_many_classes_show_the_largest_confusions(home, capsys):
    code, out, _ = run_cli(["evaluate", "topics"], capsys)
    assert code == 0 and "largest confusions" in out and "confusion matrix" not in out
    code, out, _ = run_cli(["evaluate", "topics", "--json"], capsys)
    report = json.loads(out)
    classes = len(card_of(home, "topics")["labels"])
    assert classes > 10  # the labels found in the file
    assert len(report["per_class"]) + len(report["absent"]) == classes and len(report["top_confusions"]) <= 10


def test_validation_split_is_the_training_one(home, capsys):
    code, out, _ = run_cli(["evaluate", "reviews", "--split", "validation", "--json"], capsys)
    report = json.loads(out)
    card = card_of(home, "reviews")
    assert code == 0 and report["rows"] == card["dataset"]["validation_size"]
    assert report["accuracy"] == pytest.approx(card["history"]["val_accuracy"][-1], abs=1e-6)


@pytest.mark.parametrize("args, message", [
    (["evaluate", "reviews", "--dataset", "multiplication"], "binary model; multiplication is"),
    (["evaluate", "nothing"], "no model named 'nothing'"),
    (["evaluate", "reviews", "--limit", "0"], "--limit must be at least 1"),
])
def test_errors_are_one_line(home, capsys, args, message):
    code, _, err = run_cli(args, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_progress_events_come_before_the_report(home, capsys):
    """For the app: --progress-events writes the stages and every scored batch as event
    lines, then the same report."""
    from rnn_tui.train.events import BatchEnded, Note, event_from_dict

    code, out, _ = run_cli(["evaluate", "reviews", "--json", "--progress-events",
                            "--batch-size", "8"], capsys)
    assert code == 0
    lines = out.splitlines()
    first_report_line = lines.index("{")
    events = [event_from_dict(json.loads(line)) for line in lines[:first_report_line]]
    stages = [event.text for event in events if isinstance(event, Note)]
    assert stages[0] == "loading " + stages[0].split(" ", 1)[1]  # the corpus first
    assert "loading reviews:1" in stages and stages[-1] == "loading reviews:1"
    batches = [event for event in events if isinstance(event, BatchEnded)]
    assert batches[-1].step == batches[-1].steps == 3  # 20 rows in batches of 8
    report = json.loads("\n".join(lines[first_report_line:]))
    assert report["rows"] == 20
    code, plain_out, _ = run_cli(["evaluate", "reviews", "--json"], capsys)
    assert plain_out.startswith("{\n")  # without the flag: the report alone
