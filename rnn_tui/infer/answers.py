"""Texts -> answers: the records ``rnn-tui predict --format json/jsonl`` writes and
``rnn-tui serve`` returns, built in one place so both say exactly the same.

>>> from rnn_tui.infer import Predictor                              # doctest: +SKIP
>>> predictor = Predictor.load("imdb-sentiment")                     # doctest: +SKIP
>>> [result] = classify(predictor, ["a fine film"], count=1)          # doctest: +SKIP
>>> answer_record("a fine film", result)                             # doctest: +SKIP
{'text': 'a fine film', 'model': 'imdb-sentiment:1', 'label': 'positive', ...}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

EMPTY_TEXT = "empty text"
NO_WORDS = "no words the model can read (nothing to classify)"
NO_PROBABILITY = "the model gave no probability for this text (NaN)"


def model_label(predictor: Any) -> str:
    """``name:version`` (or the name alone for a folder without a version): which model
    answered."""
    return f"{predictor.name}:{predictor.version}" if predictor.version else predictor.name


def classify(predictor: Any, texts: Sequence[str], *, count: int = 1, trace: bool = False,
             batch_size: int = 128) -> list[dict[str, Any] | str]:
    """Per text, a result (``model``, ``predictor``, the ``count`` best labels as
    ``ranked``, every label's ``probabilities``, with ``trace`` the word-by-word steps) or a
    string saying why the text cannot be classified.

    Texts must not be empty (say ``EMPTY_TEXT`` before calling).
    """
    results: list[dict[str, Any] | str] = [NO_WORDS] * len(texts)
    ids = predictor.texts_ids(list(texts))
    # (len: a model with n-gram features gives (tokens, streams) arrays, not lists)
    usable = [index for index, sequence in enumerate(ids) if len(sequence)]
    if not usable:
        return results
    probabilities = predictor.predict_ids([ids[i] for i in usable], batch_size=batch_size)
    # whole-array work once, not per row: it was a third of a 256-text request's time
    missing = np.isnan(probabilities).any(axis=1)
    ranked = predictor.top_k(probabilities, count)
    rows = probabilities.tolist()
    session = predictor.session() if trace else None
    name = model_label(predictor)
    labels = predictor.labels
    for row, index in enumerate(usable):
        if missing[row]:
            results[index] = NO_PROBABILITY
            continue
        result = {"model": name, "predictor": predictor, "ranked": ranked[row],
                  "probabilities": dict(zip(labels, rows[row]))}
        if session is not None:
            result["trace"] = [(token, p) for token, p in session.trace(texts[index])]
        results[index] = result
    return results


def answer_record(text: str, result: dict[str, Any], *, line: int | None = None,
                  ranked: bool = False) -> dict[str, Any]:
    """The JSON record of one answer (probabilities rounded to 6 places); ``top_k`` lists
    the ranked labels when ``ranked``, ``line`` is the input line number when there is one.
    """
    label, probability = result["ranked"][0]
    record: dict[str, Any] = {"text": text}
    if line is not None:
        record["line"] = line
    record.update({"model": result["model"], "label": label,
                   "probability": round(probability, 6),
                   "probabilities": {k: round(v, 6)
                                     for k, v in result["probabilities"].items()}})
    if ranked:
        record["top_k"] = [{"label": name, "probability": round(p, 6)}
                           for name, p in result["ranked"]]
    if "trace" in result:
        labels = result["predictor"].labels
        record["trace"] = [
            {"token": token, "probabilities": {name: round(float(p), 6)
                                               for name, p in zip(labels, values)}}
            for token, values in result["trace"]]
    return record
