"""The benchmark scripts' set-up: they find the corpora, the shipped models, and feed Keras
a model with n-gram inputs as training did (no benchmark is run here)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import predict_common  # noqa: E402
import predict_throughput  # noqa: E402


@pytest.fixture
def bench_environment(monkeypatch, tmp_path):
    for key in ("RNN_TUI_HOME", "RNN_TUI_DATA", "RNN_TUI_SHIPPED_MODELS", "RNN_TUI_BENCH_HOME"):
        monkeypatch.setenv(key, "")  # recorded, so setup_environment's writes are undone
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_paths_are_absolute_for_the_children(bench_environment, monkeypatch):
    (bench_environment / "data" / "imdb").mkdir(parents=True)
    monkeypatch.setenv("RNN_TUI_DATA", "data")  # relative, as `RNN_TUI_DATA=../shared/...`
    predict_common.setup_environment("home")
    assert os.environ["RNN_TUI_DATA"] == str(bench_environment / "data")
    assert os.environ["RNN_TUI_HOME"] == str(bench_environment / "home")


def test_datasets_are_found_above_a_deeper_checkout(bench_environment, monkeypatch):
    root = bench_environment / "work" / "sessions" / "one" / "repo"
    (bench_environment / "work" / "shared" / "datasets").mkdir(parents=True)
    monkeypatch.setattr(predict_common, "ROOT", root)
    assert predict_common.find_datasets() == bench_environment / "work" / "shared" / "datasets"


def test_shipped_models_can_be_named(bench_environment):
    predict_common.setup_environment(str(bench_environment / "home"))
    assert predict_common.ensure_model("imdb-sentiment") == "imdb-sentiment"


def test_a_model_with_ngram_inputs_is_fed_one_array_per_input(bench_environment):
    from rnn_tui.infer import Predictor

    predict_common.setup_environment(str(bench_environment / "home"))
    predictor = Predictor.load("imdb-sentiment")
    texts = ["a wonderful film", "dull"]
    padded = predictor.pad(predictor.texts_ids(texts))
    inputs = predict_throughput.keras_inputs(predictor, padded)
    assert list(inputs) == ["tokens", "ngrams2"]
    encoded = predictor.features.encode(texts, maxlen=predictor.input.maxlen,
                                        padding=predictor.input.padding,
                                        truncating=predictor.input.truncating)
    assert np.array_equal(encoded, padded)  # the check that used to assert on 2-D ids
    assert np.array_equal(inputs["tokens"][0][:3], predictor.texts_ids(texts)[0][:, 0])
