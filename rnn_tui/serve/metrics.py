"""The server's Prometheus metrics (prometheus-client): requests, errors, texts and latency
per model.

With several uvicorn workers the CLI points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder
before they start; prometheus-client then keeps each worker's values in files there and
``/metrics`` adds them up over all workers (its multiprocess mode), whichever worker answers.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

MULTIPROCESS_KEY = "PROMETHEUS_MULTIPROC_DIR"
# single texts answer in about a millisecond; batches of hundreds take tens
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class ServerMetrics:
    """One set of metrics per app (its own registry, so several apps can live in a test)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rnn_tui_predict_requests", "Prediction requests answered, by model and status",
            ["model", "status"], registry=self.registry)
        self.texts = Counter(
            "rnn_tui_predict_texts", "Texts classified, by model", ["model"],
            registry=self.registry)
        self.errors = Counter(
            "rnn_tui_errors", "Requests refused or failed, by model and reason",
            ["model", "reason"], registry=self.registry)
        self.latency = Histogram(
            "rnn_tui_predict_seconds", "Time to answer a prediction request, by model",
            ["model"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self._children: dict[tuple[str, int], tuple[Any, ...]] = {}

    def observe(self, model: str, status: int, texts: int, seconds: float) -> None:
        """One prediction request answered (children cached: ``labels()`` costs more than
        the increments)."""
        children = self._children.get((model, status))
        if children is None:
            code = str(status)
            children = (self.requests.labels(model, code), self.texts.labels(model),
                        self.errors.labels(model, code) if status != 200 else None,
                        self.latency.labels(model))
            self._children[(model, status)] = children
        requests, texts_counter, errors, latency = children
        requests.inc()
        if status == 200:
            texts_counter.inc(texts)
        else:
            errors.inc()
        latency.observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type (all workers' values summed
        in multiprocess mode)."""
        if os.environ.get(MULTIPROCESS_KEY):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
