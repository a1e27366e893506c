"""Correcting a verdict in the app, and what teaching changed: plain Python, no Textual.

A verdict is corrected with the label the user says is right (a binary model's other
label; for topics, one picked from the model's labels); the correction goes to the model
name's corrections corpus (``rnn_tui.teach.corrections``). After ``/teach`` the corrected
texts are scored again by the new version.

>>> flipped(Verdict("sentiment", "imdb-sentiment:1", ["negative", "positive"], [0.2, 0.8]))
'negative'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnn_tui.registry.names import ModelRef
from rnn_tui.teach.corrections import Correction, Corrections, check_teachable
from rnn_tui.tui.verdicts import Verdict


@dataclass(frozen=True)
class Rescored:
    """How a taught version reads its name's corrections, and its card's test change."""

    ref: str
    right: int
    total: int
    test_before: float | None
    test_after: float | None

    def summary(self) -> str:
        line = f"{self.ref} now gets {self.right} of {self.total} corrected texts right"
        if self.test_before is not None and self.test_after is not None:
            line += (f"; test accuracy {100 * self.test_before:.2f}% → "
                     f"{100 * self.test_after:.2f}% "
                     f"({100 * (self.test_after - self.test_before):+.2f} points)")
        return line


def model_name(verdict: Verdict) -> str:
    return ModelRef.parse(verdict.model).name


def flipped(verdict: Verdict) -> str | None:
    """The other label of a two-label verdict (None for more labels: pick one instead)."""
    if len(verdict.labels) != 2:
        return None
    return next(label for label in verdict.labels if label != verdict.label)


def record(text: str, verdict: Verdict, label: str, store: Corrections | None = None
           ) -> Correction:
    """Append the correction of ``verdict`` on ``text`` (UserError for an empty text or a
    label the model does not have)."""
    from rnn_tui.errors import UserError

    check_teachable(model_name(verdict), "text", "binary" if len(verdict.labels) == 2
                    else "multiclass", verdict.labels, label)
    if not text.strip():
        raise UserError("empty text: there is nothing to correct")
    correction = Correction(text=text, label=label, model=verdict.model, was=verdict.label)
    (store or Corrections.for_model(model_name(verdict))).add(correction)
    return correction


def rescore(ref: str, registries: Any = None) -> Rescored:
    """Score the corrections of ``ref``'s name with that version (the NumPy runtime)."""
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import open_registries

    registries = registries or open_registries()
    version = registries.resolve(ref)
    predictor = Predictor.load(version)
    corrections = [c for c in Corrections.for_model(version.name).read().corrections
                   if c.label in predictor.labels]
    right = 0
    if corrections:
        probabilities = predictor.predict([c.text for c in corrections])
        right = sum(1 for correction, row in zip(corrections, probabilities)
                    if predictor.labels[int(row.argmax())] == correction.label)
    taught = version.card.get("teach") or {}
    return Rescored(version.ref, right, len(corrections), taught.get("test_accuracy_before"),
                    taught.get("test_accuracy_after"))
