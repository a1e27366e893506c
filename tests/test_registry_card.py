"""Model cards: validation, reading damaged files, the metric a list shows."""

from __future__ import annotations

import json

import pytest

from rnn_tui.errors import DataError
from rnn_tui.registry import main_metric, read_card, validate_card


def make_card(**changes):
    card = {
        "format": "rnn-tui-card", "format_version": 1, "name": "imdb-lstm", "version": 3,
        "created": "2026-11-25T12:00:00+00:00", "task": "binary",
        "labels": ["negative", "positive"], "language": "en",
        "input": {"kind": "text", "maxlen": 400, "padding": "post", "truncating": "pre"},
        "metrics": {"test": {"loss": 0.3, "accuracy": 0.9}},
        "history": {"loss": [0.6, 0.4], "accuracy": [0.7, 0.85]},
        "layers": [{"name": "embedding", "type": "Embedding", "params": 64}],
        "files": {"model.keras": "a" * 64, "vocabulary.json": "b" * 64},
    }
    card.update(changes)
    return {k: v for k, v in card.items() if v is not ...}


def test_a_complete_card_validates():
    card = make_card()
    assert validate_card(card) == card


@pytest.mark.parametrize(("changes", "problem"), [
    ({"format": "something-else"}, "not an rnn-tui model card"),
    ({"format_version": 2}, "format_version 2 is not supported"),
    ({"task": ...}, "no 'task'"),
    ({"task": "ranking"}, "'task' must be one of"),
    ({"name": "../up"}, "path separator"),
    ({"version": 0}, "positive integer"),
    ({"version": True}, "positive integer"),
    ({"created": "yesterday"}, "ISO 8601"),
    ({"files": {}}, "'files'"),
    ({"files": {"model.keras": "nothex"}}, "sha256"),
    ({"files": {"../model.keras": "a" * 64}}, "'..'"),
    ({"files": {"/abs": "a" * 64}}, "absolute"),
    ({"files": {"card.json": "a" * 64}}, "card.json"),
    ({"labels": ["only-one"]}, "2 labels"),
    ({"labels": "neg,pos"}, "list of strings"),
    ({"input": {"kind": "image"}}, "'input'"),
    ({"input": {"kind": "text", "maxlen": 0}}, "maxlen"),
    ({"metrics": {"test": {"accuracy": "high"}}}, "metrics"),
    ({"history": {"loss": "down"}}, "history"),
    ({"layers": "many"}, "layers"),
])
def test_bad_cards_name_the_file_and_the_problem(changes, problem):
    with pytest.raises(DataError) as error:
        validate_card(make_card(**changes), "models/imdb-lstm/3/card.json")
    message = str(error.value)
    assert message.startswith("models/imdb-lstm/3/card.json: ")
    assert problem in message


def test_unknown_keys_are_kept_for_newer_writers():
    card = validate_card(make_card(future_section={"x": 1}))
    assert card["future_section"] == {"x": 1}


def test_read_card_from_file_or_folder(tmp_path):
    (tmp_path / "card.json").write_text(json.dumps(make_card()), encoding="utf-8")
    assert read_card(tmp_path)["name"] == "imdb-lstm"
    assert read_card(tmp_path / "card.json")["version"] == 3


def test_truncated_card_is_a_data_error_naming_the_file(tmp_path):
    text = json.dumps(make_card(), indent=2)
    path = tmp_path / "card.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_card(path)
    assert error.value.path == path
    assert "not valid JSON" in str(error.value)
    assert error.value.line is not None


def test_missing_and_binary_cards(tmp_path):
    with pytest.raises(DataError, match="missing"):
        read_card(tmp_path)
    (tmp_path / "card.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="cannot read"):
        read_card(tmp_path)


def test_main_metric_prefers_test_accuracy_then_validation():
    assert main_metric(make_card()) == ("accuracy", 0.9, "test")
    card = make_card(metrics={"validation": {"accuracy": 0.8, "loss": 0.5}})
    assert main_metric(card) == ("accuracy", 0.8, "validation")
    regression = make_card(task="regression", labels=[],
                           metrics={"test": {"loss": 0.2, "mae": 0.31}})
    assert main_metric(regression) == ("mae", 0.31, "test")
    assert main_metric(make_card(metrics=...)) is None
