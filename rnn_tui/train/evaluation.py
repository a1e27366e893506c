"""Scores from predictions, with NumPy only: loss, accuracy, per-class precision/recall/F1,
the confusion matrix and its largest off-diagonal cells; MSE/MAE/R² for regression.

>>> report = classification_report(np.array([0, 1, 1]), np.array([[0.1], [0.2], [0.8]]),
...                                ["neg", "pos"])
>>> report["accuracy"], report["confusion_matrix"]
(0.6666666666666666, [[1, 0], [1, 1]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to [eps, 1 - eps]


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """(n, classes) probabilities from a model's outputs: one sigmoid column becomes two."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.shape[1] == 1:
        return np.concatenate([1.0 - outputs, outputs], axis=1)
    return outputs


def cross_entropy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean negative log-likelihood of the true classes (Keras' clipping)."""
    labels = np.asarray(labels, dtype=np.int64)
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, EPSILON, 1.0 - EPSILON))))


def classification_report(labels: np.ndarray, outputs: np.ndarray, label_names: list[str],
                          *, top_confusions: int = 10) -> dict[str, Any]:
    """Loss, accuracy, per-class precision/recall/F1/support, confusion matrix
    (rows: true class, columns: predicted) and the largest confusions.

    As scikit-learn's ``classification_report``, the per-class rows and the macro average
    cover the classes present in the truth or the predictions; classes in neither (a topic
    with no test rows that the model never predicts) are listed in ``absent`` instead of
    scoring 0.000 and dragging the macro average down. The confusion matrix keeps them all.
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    probabilities = class_probabilities(outputs)
    classes = probabilities.shape[1]
    names = list(label_names) if len(label_names) == classes else \
        [f"class_{i}" for i in range(classes)]
    predicted = probabilities.argmax(axis=1)
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    true_positive = np.diag(matrix).astype(np.float64)
    predicted_count = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_count > 0, true_positive / predicted_count, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = (support > 0) | (predicted_count > 0)
    per_class = [
        {"label": names[i], "precision": float(precision[i]), "recall": float(recall[i]),
         "f1": float(f1[i]), "support": int(support[i])}
        for i in range(classes) if present[i]
    ]
    total = support.sum()
    confusions = [
        {"true": names[t], "predicted": names[p], "count": int(matrix[t, p])}
        for t, p in zip(*np.unravel_index(np.argsort(-matrix, axis=None), matrix.shape))
        if t != p and matrix[t, p] > 0
    ][:top_confusions]
    return {
        "samples": int(len(labels)),
        "loss": cross_entropy(labels, probabilities) if len(labels) else None,
        "accuracy": float((predicted == labels).mean()) if len(labels) else None,
        "macro": {"precision": float(precision[present].mean()) if present.any() else 0.0,
                  "recall": float(recall[present].mean()) if present.any() else 0.0,
                  "f1": float(f1[present].mean()) if present.any() else 0.0},
        "weighted": {"precision": float((precision * support).sum() / total) if total else 0.0,
                     "recall": float((recall * support).sum() / total) if total else 0.0,
                     "f1": float((f1 * support).sum() / total) if total else 0.0},
        "per_class": per_class,
        "absent": [names[i] for i in range(classes) if not present[i]],
        "labels": names,
        "confusion_matrix": matrix.tolist(),
        "top_confusions": confusions,
    }


def regression_report(targets: np.ndarray, outputs: np.ndarray) -> dict[str, Any]:
    """MSE (the loss), MAE, RMSE and R²."""
    targets = np.asarray(targets, dtype=np.float64).reshape(-1)
    predictions = np.asarray(outputs, dtype=np.float64).reshape(-1)
    errors = predictions - targets
    mse = float(np.mean(errors ** 2)) if len(errors) else None
    variance = float(np.var(targets)) if len(targets) else 0.0
    return {
        "samples": int(len(targets)),
        "loss": mse,
        "mse": mse,
        "mae": float(np.mean(np.abs(errors))) if len(errors) else None,
        "rmse": float(np.sqrt(mse)) if mse is not None else None,
        "r2": float(1.0 - mse / variance) if mse is not None and variance > 0 else None,
    }


def report_for(task: str, labels: np.ndarray, outputs: np.ndarray,
               label_names: list[str]) -> dict[str, Any]:
    if task == "regression":
        return {"task": task, **regression_report(labels, outputs)}
    return {"task": task, **classification_report(labels, outputs, label_names)}
