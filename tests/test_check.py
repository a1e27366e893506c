"""rnn-tui check: the shipped suites, template expansion, scoring, the command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.check import Suite, run_check
from rnn_tui.check.suite import expand
from rnn_tui.errors import DataError, UserError
from train_support import run_cli

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
REQUIRED = ["negation", "double-negation", "contrast", "intensifiers", "typos", "emoji-slang",
            "invariance", "short"]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_shipped_suites_cover_every_capability_with_a_few_hundred_cases(language):
    suite = Suite.shipped(language)
    assert suite.language == language
    assert [capability.name for capability in suite.capabilities] == REQUIRED
    assert 300 <= len(suite.cases) <= 1000
    for capability in suite.capabilities:
        assert len(capability.cases) >= 10, capability.name
    texts = [text for case in suite.cases for text in case.texts]
    assert all(text.strip() and "{" not in text for text in texts)


def test_the_issue_examples_are_cases_with_the_right_expectations():
    english = {case.texts[0]: case.expect for case in Suite.shipped("en").cases}
    korean = {case.texts[0]: case.expect for case in Suite.shipped("ko").cases}
    assert english["not bad at all"] == "positive"
    assert english["I can't say I enjoyed it."] == "negative"
    assert english["Couldn't have been better."] == "positive"
    assert korean["안 재밌어요"] == "negative"
    assert korean["재미 없진 않았어요"] == "positive"
    assert korean["추천하지 않습니다"] == "negative"


def test_expansion_is_every_combination_or_a_fixed_sample():
    lexicon = {"a": ["1", "2", "3"], "b": ["x", "y", "z"]}
    assert len(expand("{a}{b}", lexicon, limit=20)) == 9
    sample = expand("{a}{b}", lexicon, limit=4)
    assert len(sample) == 4 and len(set(sample)) == 4
    assert sample == expand("{a}{b}", lexicon, limit=4)  # the same on every run
    assert expand("{a} and {a}", lexicon) == [("1 and 1",), ("2 and 2",), ("3 and 3",)]
    varied = expand("{a}{b}", lexicon, vary="b", limit=2)
    assert len(varied) == 2
    assert all(case == tuple(case[0][0] + b for b in "xyz") for case in varied)


def _suite_file(tmp_path, capabilities, lexicon=None, **extra):
    path = tmp_path / "suite.json"
    path.write_text(json.dumps({"format": "rnn-tui-check-suite", "format_version": 1,
                                "language": "en", "lexicon": lexicon or {"adj": ["good"]},
                                "capabilities": capabilities, **extra}, indent=1))
    return path


@pytest.mark.parametrize("capabilities, message", [
    ([{"name": "x", "tests": [{"template": "{nope}", "expect": "positive"}]}], "no slot 'nope'"),
    ([{"name": "x", "tests": [{"text": "good", "expect": "great"}]}], '"expect" must be'),
    ([{"name": "x", "tests": [{"template": "{adj}", "expect": "no change"}]}], '"vary"'),
    ([{"name": "x", "tests": [{"text": "  ", "expect": "positive"}]}], "empty"),
    ([{"name": "x", "tests": [{"text": "a", "template": "b", "expect": "positive"}]}],
     'a "text" or a "template"'),
    ([], "non-empty list"),
])
def test_a_malformed_suite_is_one_clear_error_naming_the_file(tmp_path, capabilities, message):
    with pytest.raises(DataError) as caught:
        Suite.load(_suite_file(tmp_path, capabilities))
    assert message in str(caught.value) and "suite.json" in str(caught.value)


def test_broken_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "rnn-tui-check-suite",\n  "lexicon": {,}\n}')
    with pytest.raises(DataError, match=r"bad.json:2: not valid JSON"):
        Suite.load(path)


def _oracle(suite):
    """Answers every case as it expects: the scorer must find no failure."""
    wanted = {}
    for case in suite.cases:
        for text in case.texts:
            wanted[text] = 0.1 if case.expect == "negative" else 0.9
    return lambda texts: np.array([[1 - wanted[t], wanted[t]] for t in texts])


@pytest.mark.parametrize("language", ["en", "ko"])
def test_an_oracle_passes_and_a_constant_model_fails(language):
    suite = Suite.shipped(language)
    perfect = run_check(_oracle(suite), ["negative", "positive"], suite)
    assert perfect.failed == 0
    constant = run_check(lambda texts: np.tile([[0.2, 0.8]], (len(texts), 1)),
                         ["neg", "pos"], suite)
    rates = {result.name: result.failure_rate for result in constant.results}
    assert rates["invariance"] == 0.0  # the same answer everywhere never changes
    assert rates["short"] > 0.4 and rates["negation"] > 0.3


def test_unreadable_texts_fail_and_labels_are_matched_by_name():
    suite = Suite.shipped("en")
    report = run_check(lambda texts: np.full((len(texts), 2), np.nan), ["부정", "긍정"], suite)
    assert report.failed == report.tests
    assert report.results[0].failures[0].got == ["unreadable"]
    # labels in the other order: "positive" is found by name, not position
    swapped = run_check(lambda texts: _oracle(suite)(texts)[:, ::-1], ["positive", "negative"],
                        suite)
    assert swapped.failed == 0
    named_oddly = run_check(_oracle(suite), ["bad review", "good review"], suite)
    assert named_oddly.failed == 0 and "second label" in named_oddly.notes[0]
    with pytest.raises(UserError, match="none named positive"):
        run_check(_oracle(suite), ["a", "b", "c"], suite)
    with pytest.raises(UserError, match="no capability 'nope'"):
        run_check(_oracle(suite), ["negative", "positive"], suite, capabilities=["nope"])


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """The shipped sentiment models, and ``inverted``: imdb-sentiment's weights published
    (the real Registry path) with its labels swapped, a deliberately broken model whose
    every verdict is inverted."""
    from rnn_tui.registry import Registry

    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(SHIPPED_DIR))
    source = SHIPPED_DIR / "imdb-sentiment" / "1"
    card = json.loads((source / "card.json").read_text())

    def build(folder: Path) -> dict:
        for path in source.iterdir():
            if path.name.startswith(("vocabulary", "runtime")):
                shutil.copy(path, folder / path.name)
        return {"task": "binary", "labels": card["labels"][::-1], "language": "en",
                "input": card["input"]}

    Registry(tmp_path / "home" / "models").publish("inverted", build)
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    return SHIPPED_DIR


def test_check_command_on_the_shipped_models(shipped_copy, capsys):
    code, out, err = run_cli(["check", "imdb-sentiment", "--format", "json", "--failures",
                              "2"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["model"] == "imdb-sentiment:1"
    assert [c["name"] for c in report["capabilities"]] == REQUIRED
    assert all(len(c["failures"]) <= 2 for c in report["capabilities"])
    short = next(c for c in report["capabilities"] if c["name"] == "short")
    assert short["failure_rate"] <= 0.25  # a real model gets one-word reviews right
    code, out, err = run_cli(["check", "nsmc-sentiment"], capsys)  # Korean: the ko suite
    assert code == 0 and "한국어" in out and "negation" in out


def test_a_deliberately_broken_model_fails_the_check(shipped_copy, capsys):
    code, out, _ = run_cli(["check", "inverted", "--format", "json"], capsys)
    assert code == 0
    rates = {c["name"]: c["failure_rate"] for c in json.loads(out)["capabilities"]}
    assert rates["short"] > 0.75 and rates["intensifiers"] > 0.75
    code, _, err = run_cli(["check", "inverted", "--fail-above", "0.1"], capsys)
    assert code == 1 and "more than 10%" in err


def test_check_refuses_what_it_cannot_test(shipped_copy, tmp_path, capsys):
    code, _, err = run_cli(["check", "nosuch"], capsys)
    assert code == 2 and "nosuch" in err
    code, _, err = run_cli(["check", "imdb-sentiment", "--suite", "xx"], capsys)
    assert code == 2 and "xx" in err
    bad = tmp_path / "s.json"
    bad.write_text("[1, 2")
    code, _, err = run_cli(["check", "imdb-sentiment", "--suite", str(bad)], capsys)
    assert code == 2 and "s.json:1" in err and "Traceback" not in err


def test_texts_from_a_suite_file_are_escaped(shipped_copy, tmp_path, capsys):
    path = _suite_file(tmp_path, [{"name": "evil\x1b]0;PWNED\x07", "tests": [
        {"text": "good\x1b[2J\u202e", "expect": "negative"}]}])
    code, out, _ = run_cli(["check", "imdb-sentiment", "--suite", str(path)], capsys)
    assert code == 0
    assert "\x1b]0" not in out and "\x1b[2J" not in out and "\u202e" not in out
    assert "␛" in out


def test_check_imports_no_tensorflow(shipped_copy):
    import os

    from train_support import imports_tensorflow

    env = {**os.environ, "RNN_TUI_SHIPPED_MODELS": str(shipped_copy)}
    assert not imports_tensorflow(["check", "imdb-sentiment"], env)
