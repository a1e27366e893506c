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


def positive_index(labels: Sequence[str]) -> tuple[int, str | None]:
    """(index of the positive label, a note when it was assumed rather than found)."""
    lowered = [label.strip().lower() for label in labels]
    for index, label in enumerate(lowered):
        if label in POSITIVE_NAMES:
            return index, None
    if len(labels) == 2:
        for index, label in enumerate(lowered):
            if label in NEGATIVE_NAMES:
                return 1 - index, None
        return 1, (f"no label is named positive: took the second label, {labels[1]!r}, as "
                   "positive")
    raise UserError(f"check tests sentiment models: this model's {len(labels)} labels have "
                    "none named positive")


def run_check(predict: Callable[[list[str]], np.ndarray], labels: Sequence[str],
              suite: Suite, *, capabilities: Sequence[str] | None = None) -> CheckReport:
    """Run every case of a suite (or of the named capabilities) through ``predict``."""
    labels = list(labels)
    positive, note = positive_index(labels)
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
            got = [_label(values, labels, positive) for values in rows]
            if not _passes(case, got, labels, positive):
                result.failures.append(Failure(case, got, [float(p) for p in rows[:, positive]]))
        results.append(result)
    return CheckReport(suite, labels, positive, results, [note] if note else [])


def _label(values: np.ndarray, labels: list[str], positive: int) -> str:
    if not np.all(np.isfinite(values)):
        return "unreadable"
    return labels[int(np.argmax(values))]


def _passes(case: Case, got: list[str], labels: list[str], positive: int) -> bool:
    if "unreadable" in got:
        return False
    if case.expect == "no change":
        return len(set(got)) == 1
    wanted = labels[positive] if case.expect == "positive" else labels[1 - positive] \
        if len(labels) == 2 else None
    if wanted is None:  # several labels: "negative" means the one named so
        names = [label.strip().lower() for label in labels]
        matches = [labels[i] for i, name in enumerate(names) if name in NEGATIVE_NAMES]
        if not matches:
            raise UserError("this model has no label named negative")
        wanted = matches[0]
    return got[0] == wanted
