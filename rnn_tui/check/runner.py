"""Score a sentiment model on a check suite: failure rate per capability.

The model is anything that maps a list of texts to probabilities (n, classes): a registry
model's ``Predictor.predict``, or a plain function in tests. Every distinct text is
predicted once, in one batch. A text the model cannot read at all (no known word, so its
probabilities are NaN) counts as a failure: the user typed it and got no verdict.

Which column is "positive": a label named positive/pos/긍정 (negative/neg/부정 for the
other), else, for a two-label model, the second label (every corpus here puts negative
first), which the report then says.

>>> from rnn_tui.check.suite import Suite
>>> suite = Suite.shipped("en")
>>> import numpy as np
>>> always_positive = lambda texts: np.tile([[0.1, 0.9]], (len(texts), 1))
>>> report = run_check(always_positive, ["negative", "positive"], suite)
>>> report.by_name["invariance"].failure_rate, report.by_name["negation"].failure_rate > 0.3
(0.0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnn_tui.check.suite import Case, Suite
from rnn_tui.errors import UserError

POSITIVE_NAMES = ("positive", "pos", "긍정", "good")
NEGATIVE_NAMES = ("negative", "neg", "부정", "bad")


@dataclass
class Failure:
    case: Case
    got: list[str]  # the label given to each text ("unreadable" for NaN)
    probabilities: list[float]  # the positive probability of each text


@dataclass
class CapabilityResult:
    name: str
    title: str
    tests: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def failure_rate(self) -> float:
        return self.failed / self.tests if self.tests else 0.0


@dataclass
class CheckReport:
    suite: Suite
    labels: list[str]
    positive: int  # the index of the positive label
    negative: int  # ... and of the negative one
    results: list[CapabilityResult]
    notes: list[str] = field(default_factory=list)

    @property
    def by_name(self) -> dict[str, CapabilityResult]:
        return {result.name: result for result in self.results}

    @property
    def tests(self) -> int:
        return sum(result.tests for result in self.results)

    @property
    def failed(self) -> int:
        return sum(result.failed for result in self.results)

    @property
    def worst(self) -> CapabilityResult:
        return max(self.results, key=lambda result: result.failure_rate)

    def to_dict(self, failures: int | None = None) -> dict[str, Any]:
        """The report as JSON-ready data; ``failures`` caps the failing cases listed per
        capability (None: all)."""
        return {
            "suite": {"language": self.suite.language, "title": self.suite.title,
                      "file": self.suite.path.name},
            "labels": self.labels, "positive_label": self.labels[self.positive],
            "tests": self.tests, "failed": self.failed,
            "failure_rate": self.failed / self.tests if self.tests else 0.0,
            "capabilities": [
                {"name": result.name, "title": result.title, "tests": result.tests,
                 "failed": result.failed, "failure_rate": result.failure_rate,
                 "failures": [
                     {"texts": list(failure.case.texts), "expected": failure.case.expect,
                      "got": failure.got, "positive_probability": failure.probabilities}
                     for failure in result.failures[:failures]]}
                for result in self.results],
            "notes": self.notes,
        }


def polarity_indices(labels: Sequence[str]) -> tuple[int, int, str | None]:
    """(index of the positive label, of the negative one, a note when they were assumed
    rather than found by name)."""
    lowered = [label.strip().lower() for label in labels]
    positive = next((i for i, label in enumerate(lowered) if label in POSITIVE_NAMES), None)
    negative = next((i for i, label in enumerate(lowered) if label in NEGATIVE_NAMES), None)
    if len(labels) == 2:
        if positive is None and negative is None:
            return 1, 0, (f"no label is named positive: took the second label, "
                          f"{labels[1]!r}, as positive")
        positive = 1 - negative if positive is None else positive
        return positive, 1 - positive, None
    if positive is None:
        raise UserError(f"check tests sentiment models: this model's {len(labels)} labels "
                        "have none named positive")
    if negative is None:
        raise UserError("this model has no label named negative")
    return positive, negative, None


def check_predictor(predictor: Any, suite_name: str | None = None, *,
                    capabilities: Sequence[str] | None = None) -> CheckReport:
    """Run a suite on a registry model's ``Predictor``: the shipped suite of its language, or
    ``suite_name`` (a language or a suite file). A model that is not a text classifier is a
    UserError."""
    if predictor.task == "regression" or predictor.input.kind != "text":
        raise UserError(f"check tests text classifiers; {predictor.name} is a "
                        f"{predictor.task} model of {predictor.input.kind} input")
    return run_check(predictor.predict, predictor.labels,
                     Suite.choose(suite_name, predictor.language, predictor.name),
                     capabilities=capabilities)


def run_check(predict: Callable[[list[str]], np.ndarray], labels: Sequence[str],
              suite: Suite, *, capabilities: Sequence[str] | None = None) -> CheckReport:
    """Run every case of a suite (or of the named capabilities) through ``predict``."""
    labels = list(labels)
    positive, negative, note = polarity_indices(labels)
    chosen = list(suite.capabilities)
    if capabilities:
        known = {capability.name for capability in chosen}
        unknown = [name for name in capabilities if name not in known]
        if unknown:
            raise UserError(f"the suite has no capability {unknown[0]!r} (it has: "
                            f"{', '.join(sorted(known))})")
        chosen = [capability for capability in chosen if capability.name in capabilities]
    texts = list(dict.fromkeys(text for capability in chosen for case in capability.cases
                               for text in case.texts))
    probabilities = np.asarray(predict(texts), dtype=np.float64) if texts else np.zeros((0, 2))
    if probabilities.shape != (len(texts), len(labels)):
        raise UserError(f"the model gave {probabilities.shape[-1]} probabilities per text for "
                        f"its {len(labels)} labels")
    row = {text: index for index, text in enumerate(texts)}
    results = []
    for capability in chosen:
        result = CapabilityResult(capability.name, capability.title, len(capability.cases))
        for case in capability.cases:
            rows = probabilities[[row[text] for text in case.texts]]
            got = [_label(values, labels) for values in rows]
            wanted = {"positive": labels[positive], "negative": labels[negative]}
            if not _passes(case, got, wanted):
                result.failures.append(Failure(case, got, [float(p) for p in rows[:, positive]]))
        results.append(result)
    return CheckReport(suite, labels, positive, negative, results, [note] if note else [])


def _label(values: np.ndarray, labels: list[str]) -> str:
    if not np.all(np.isfinite(values)):
        return "unreadable"
    return labels[int(np.argmax(values))]


def _passes(case: Case, got: list[str], wanted: dict[str, str]) -> bool:
    if "unreadable" in got:
        return False
    if case.expect == "no change":
        return len(set(got)) == 1
    return got[0] == wanted[case.expect]
