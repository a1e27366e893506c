"""What ``rnn-tui compare`` puts side by side, read from each version's card and measured
on the TensorFlow-free runtime: test metrics, parameters, size on disk, training time,
keystroke latency and the curves.

Keystroke latency is what the app pays per key typed: a streaming session is fed a sample
text one character more at a time (``KEYSTROKE_TEXTS``, by the model's language) and the
median time per update is reported. Numeric-sequence models have no keystrokes.

>>> facts = model_facts("imdb-sentiment")                 # doctest: +SKIP
>>> facts.test["accuracy"], facts.keystroke_ms            # doctest: +SKIP
(0.9019, 0.21)
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

KEYSTROKE_TEXTS = {
    "en": "The plot was thin and the acting wooden, but the last half hour surprised me: "
          "a moving, honest ending that almost makes up for the rest. Worth a look.",
    "ko": "처음엔 지루했는데 마지막 삼십 분이 정말 좋았어요. "
          "배우들 연기도 괜찮고 결말이 마음에 남네요. 한 번쯤 볼 만합니다.",
}


@dataclass
class ModelFacts:
    ref: str
    dataset: str | None
    arch: str | None
    task: str | None
    test: dict[str, float]
    params: int | None
    size_bytes: int
    train_s: float | None
    history: dict[str, list[float]] = field(default_factory=dict)
    keystroke_ms: float | None = None


def keystroke_latency_ms(predictor: Any, text: str) -> float:
    """Median milliseconds per update of a live session typing ``text`` key by key (after
    one warm-up pass)."""
    times = []
    for round_ in range(2):
        session = predictor.session()
        for end in range(1, len(text) + 1):
            started = time.perf_counter()
            session.update(text[:end])
            if round_:
                times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def model_facts(ref: str, registries: Any = None, *, latency: bool = True) -> ModelFacts:
    """The facts of one registry version (``name``, ``name:3``, ``name@best``)."""
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import open_registries

    registries = registries or open_registries()
    version = registries.resolve(ref)
    card = version.card
    params = (card.get("params") or {}).get("total")
    facts = ModelFacts(
        ref=version.ref, dataset=(card.get("dataset") or {}).get("name"),
        arch=(card.get("architecture") or {}).get("arch"), task=card.get("task"),
        test=dict((card.get("metrics") or {}).get("test") or {}),
        params=int(params) if isinstance(params, (int, float)) else None,
        size_bytes=version.size_bytes(),
        train_s=(card.get("training") or {}).get("train_s"),
        history={key: list(values) for key, values in (card.get("history") or {}).items()})
    text = KEYSTROKE_TEXTS.get(card.get("language") or "en", KEYSTROKE_TEXTS["en"])
    if latency and (card.get("input") or {}).get("kind", "text") == "text":
        facts.keystroke_ms = keystroke_latency_ms(Predictor.load(version), text)
    return facts
