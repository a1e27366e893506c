"""The pretrained models the repository ships in models/ (made by the presets, see
models/README.md): complete, small, the defaults of predict and the app, sensible on reviews
written for this test (not from the corpora), and the same in Keras and in the runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.infer.predictor import Predictor
from rnn_tui.registry import Registry

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED = ["imdb-sentiment", "nsmc-sentiment", "reuters-topics", "multiplication"]
LIMIT_BYTES = 16_000_000

# Written for this test, so none of them is in a training split.
ENGLISH = [
    ("An absolute delight from start to finish, the cast is wonderful.", "positive"),
    ("I loved every minute; the best film I have seen this year.", "positive"),
    ("Boring, predictable and far too long. A waste of two hours.", "negative"),
    ("The plot makes no sense and the acting is terrible.", "negative"),
]
KOREAN = [
    ("배우들 연기가 정말 좋았고 마지막 장면에서 울었어요", "positive"),
    ("시간 가는 줄 모르고 봤네요 강력 추천합니다", "positive"),
    ("돈 아깝다 진짜 지루하고 스토리도 엉망", "negative"),
    ("기대했는데 완전 실망... 보다가 잠들었음", "negative"),
]
NEWS = [
    ("Crude oil prices rose after OPEC ministers agreed to cut output.", "crude"),
    ("The company said it agreed to acquire all outstanding shares of the rival firm.", "acq"),
    ("Quarterly net profit rose to 12.5 mln dlrs, or 45 cts a share, on higher revenues.",
     "earn"),
]


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(SHIPPED_DIR))
    return Registry(SHIPPED_DIR, read_only=True)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_is_complete_and_small(shipped, name):
    version = shipped.resolve(name)
    version.verify()  # every file matches the sha256 in its card
    assert version.size_bytes() < LIMIT_BYTES
    card = version.card
    assert card["training"]["config"]["preset"] == name  # `rnn-tui train --preset NAME`
    assert card["training"]["float16_weights"] == (name != "multiplication")  # 214 kB anyway
    assert card["metrics"]["test"]


@pytest.mark.parametrize("texts, name", [(ENGLISH, "imdb-sentiment"), (KOREAN, "nsmc-sentiment"),
                                         (NEWS, "reuters-topics")])
def test_shipped_models_read_new_text_right(shipped, texts, name):
    predictor = Predictor.load(name)
    probabilities = predictor.predict([text for text, _ in texts])
    got = [predictor.labels[int(row.argmax())] for row in probabilities]
    assert got == [label for _, label in texts]


def test_predict_uses_the_shipped_models_by_language(shipped, tmp_path):
    env = {**os.environ, "RNN_TUI_SHIPPED_MODELS": str(SHIPPED_DIR)}
    result = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "predict", "--format", "jsonl", ENGLISH[0][0],
         KOREAN[2][0]], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["model"].split(":")[0] for row in rows] == ["imdb-sentiment", "nsmc-sentiment"]
    assert [row["label"] for row in rows] == ["positive", "negative"]


@pytest.mark.parametrize("name", ["imdb-sentiment", "nsmc-sentiment", "reuters-topics"])
def test_keras_and_the_runtime_agree_on_the_shipped_weights(shipped, name):
    """model.keras and runtime.npz hold the same float16 weights."""
    from rnn_tui.data.corpus import Split
    from rnn_tui.registry.keras_io import load_keras_model
    from rnn_tui.train.pipeline import predict_in_order
    from rnn_tui.train.scoring import model_inputs

    version = shipped.resolve(name)
    predictor = Predictor.load(version)
    texts = [text for text, _ in ENGLISH + KOREAN + NEWS]
    inputs = model_inputs(version, Split(labels=np.zeros(len(texts)), texts=texts))
    model = load_keras_model(version, compile=False)
    streams = [entry["name"] for entry in version.card["input"].get("features", [])] or None
    expected = predict_in_order(model, inputs, batch_size=32, stream_names=streams)
    got = predictor.predict(texts)
    if expected.shape[1] == 1:  # one sigmoid unit; the predictor gives both classes
        got = got[:, 1:]
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.slow
@pytest.mark.realdata
def test_evaluate_reproduces_the_shipped_card(shipped, real_data_home):
    """`rnn-tui evaluate reuters-topics --dataset reuters`, as the issue names it, gives the
    test accuracy the card recorded at training time (float16 weights: no change)."""
    from conftest import require_real_corpus

    require_real_corpus(real_data_home, "reuters21578")
    env = {**os.environ, "RNN_TUI_SHIPPED_MODELS": str(SHIPPED_DIR)}
    result = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "evaluate", "reuters-topics", "--dataset", "reuters",
         "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    card = shipped.resolve("reuters-topics").card
    assert report["rows"] == 2246
    assert report["accuracy"] == pytest.approx(card["metrics"]["test"]["accuracy"], abs=1e-6)


async def test_the_app_reads_korean_with_the_shipped_models(shipped):
    """The workspace on the shipped models: Korean text gets nsmc-sentiment's verdict, and
    the English topic model, which can read none of it, says so instead of failing."""
    from tui_helpers import plain, wait_for

    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Absent, Verdict

    text = KOREAN[0][0]
    app = RnnTuiApp()
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: app.book is not None and all(
            app.book.is_loaded(ref) for ref in ("nsmc-sentiment", "reuters-topics")),
            timeout=30, what="the shipped models")
        await pilot.press(*text)
        await wait_for(pilot, lambda: app.live_text == text, what="the live verdicts")
        verdicts = app.live.verdicts
        assert isinstance(verdicts[SENTIMENT], Verdict)
        assert (verdicts[SENTIMENT].model, verdicts[SENTIMENT].label) == (
            "nsmc-sentiment:1", "positive")
        assert isinstance(verdicts[TOPICS], Absent)
        assert "no words reuters-topics" in verdicts[TOPICS].message
        await pilot.press("enter")  # kept in the transcript, with the same explanation
        entry = app.transcript.children[-1]
        await wait_for(pilot, lambda: "per word" in plain(entry.content), what="the trace")
        assert "nsmc-sentiment:1" in plain(entry.content)
        assert "no words reuters-topics" in plain(entry.content)


def test_the_korean_trace_goes_word_by_word_and_turns(shipped):
    """The NSMC tutorial's showcase: the verdict turns negative on the last word."""
    predictor = Predictor.load("nsmc-sentiment")
    steps = predictor.trace("재미있을 줄 알았는데 완전 실망했다")
    assert [word for word, _ in steps] == ["재미있을", "줄", "알았는데", "완전", "실망했다"]
    positive = predictor.labels.index("positive")
    assert steps[0][1][positive] > 0.5 > steps[-1][1][positive]
    np.testing.assert_allclose(
        steps[-1][1], predictor.predict(["재미있을 줄 알았는데 완전 실망했다"])[0], atol=1e-6)


def test_the_shopping_preset_trains_where_the_corpus_is(data_home, capsys):
    """No copy of the shopping corpus is here, so its preset runs on a small file of the
    same format: the whole recipe (syllables, n-grams, float16 publishing) to a model that
    predicts."""
    from train_support import run_cli

    positive = ["배송 빠르고 좋아요", "정말 만족합니다", "가성비 최고예요", "또 살게요 추천"]
    negative = ["배송이 너무 느려요", "품질이 별로네요", "환불하고 싶어요", "다시는 안 삽니다"]
    lines = [f"{5 if good else 1}\t{phrase} {number}번째 구매"
             for number in range(30) for good, phrases in ((True, positive), (False, negative))
             for phrase in phrases]
    path = data_home / "shopping" / "naver_shopping.txt"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli(["train", "--preset", "shopping-sentiment", "--epochs", "2",
                              "--batch-size", "16"], capsys)
    assert code == 0, err
    assert "published shopping-sentiment:1" in out
    predictor = Predictor.load("shopping-sentiment")
    assert predictor.describe()["streamable"]
    assert predictor.predict(["배송 빠르고 좋아요"]).shape == (1, 2)
