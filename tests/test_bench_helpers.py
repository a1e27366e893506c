"""The benchmarks' own arithmetic: the paired-ratio interval of train_throughput.py and the
texts predict_latency.py types (issue 19: figures that can be trusted)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench_module(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_the_ratio_interval_is_paired_and_narrows_with_rounds():
    interval = bench_module("train_throughput").ratio_interval
    ratio, low, high = interval([100.0, 200.0, 50.0], [100.0, 200.0, 50.0])
    assert (ratio, low, high) == (1.0, 1.0, 1.0)  # load swings cancel within a pair
    engine, bare = [96.0, 190.0, 52.0, 101.0], [100.0, 200.0, 50.0, 105.0]
    ratio, low, high = interval(engine, bare)
    geometric = math.exp(sum(math.log(e / b) for e, b in zip(engine, bare)) / 4)
    assert ratio == pytest.approx(geometric) and low < ratio < high
    ratio8, low8, high8 = interval(engine * 2, bare * 2)
    assert ratio8 == pytest.approx(ratio) and low < low8 and high8 < high
    assert interval([90.0], [100.0])[2] == math.inf  # one round resolves nothing


def test_korean_reviews_are_typed_from_their_own_text():
    reviews_of = bench_module("predict_latency").reviews_of
    korean = SimpleNamespace(language="ko", tokens=list)
    texts = ["짧다", "가" * 30 + " 정말 재미있는 영화였다 배우들의 연기가 좋았고 결말이 감동적이었다"]
    (prefix, typed), = reviews_of(korean, 100, 5, 20, texts)
    assert prefix + typed == texts[1] and len(typed) == 20


def test_english_prefixes_hold_exactly_the_asked_tokens():
    reviews_of = bench_module("predict_latency").reviews_of
    english = SimpleNamespace(language="en", tokens=str.split)
    text = " ".join(f"word{i}" for i in range(200))
    (prefix, typed), = reviews_of(english, 100, 1, 10, [text])
    assert len(prefix.split()) == 100 and text.startswith(prefix + typed)
