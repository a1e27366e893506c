"""The model card of a finished run (schema: docs/ARCHITECTURE.md, checks: registry.card).

The registry stamps format, name, version, created, files and packages; everything else is
filled here: task, labels, language, input, dataset, vocabulary, architecture (with the Keras
layer table), training (with durations), metrics and history.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnn_tui.nets import mask_zero_for, to_compact
from rnn_tui.train.config import TrainConfig
from rnn_tui.train.plan import Evaluation, FitOutcome, RunFacts, RunPlan, Training

DEFAULT_LEARNING_RATES = {"adam": 0.001, "rmsprop": 0.001, "sgd": 0.01}


def _shape_text(shape: Any) -> str:
    """Keras' summary spelling: ``(None, 100, 16)``."""
    return "(" + ", ".join("None" if d is None else str(int(d)) for d in tuple(shape)) + \
        ("," if len(tuple(shape)) == 1 else "") + ")"


def _size(weights: list[Any]) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def layer_table(model: Any) -> list[dict[str, Any]]:
    """One row per layer as ``model.summary()`` shows it: name, type, output shape, params."""
    rows = []
    for layer in model.layers:
        output = layer.output
        shapes = [o.shape for o in output] if isinstance(output, (list, tuple)) else [output.shape]
        rows.append({
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": ", ".join(_shape_text(s) for s in shapes),
            "params": int(layer.count_params()),
            "trainable_params": _size(layer.trainable_weights),
            "trainable": bool(layer.trainable),
        })
    return rows


def param_counts(model: Any) -> dict[str, int]:
    total = int(model.count_params())
    trainable = _size(model.trainable_weights)
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def clean_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    return {str(k): _finite(v) for k, v in metrics.items()}


def build_card(plan: RunPlan, training: Training, outcome: FitOutcome,
               evaluation: Evaluation, record: RunFacts) -> dict[str, Any]:
    """Every section of the card except the ones the registry stamps.

    The learning rate and global batch come from the plan's placement
    (``Distribution.describe``); ``lr_schedule`` and ``ema`` from ``engine.schedule_card``.
    """
    config, data = plan.config, plan.data
    card: dict[str, Any] = {
        "task": data.task,
        "labels": list(data.label_names),
        "language": data.corpus.language,
        "input": data.input_card(config),
        "dataset": data.dataset_card(config),
        "architecture": _architecture_section(plan, training),
        "training": _training_section(plan, training, outcome, evaluation, record),
        "metrics": _metrics_section(config, outcome, evaluation, record),
        "history": {key: [_finite(v) for v in series]
                    for key, series in record.history.items()},
        "layers": layer_table(training.model),
        "params": param_counts(training.model),
        "notes": list(plan.notes),
    }
    vocabulary = data.vocabulary_card()
    if vocabulary is not None:
        card["vocabulary"] = vocabulary
    return card


def _architecture_section(plan: RunPlan, training: Training) -> dict[str, Any]:
    config = plan.config
    return {
        "arch": config.arch if config.arch_spec is None else "custom",
        "preset": config.preset,
        "compact": to_compact(plan.spec),
        "options": dict(config.arch_options),
        "spec": plan.spec,
        "mask_zero": mask_zero_for(plan.spec, config.padding),
        "vectors": training.vectors_card,
    }


def _training_section(plan: RunPlan, training: Training, outcome: FitOutcome,
                      evaluation: Evaluation, record: RunFacts) -> dict[str, Any]:
    config, placement = plan.config, plan.placement or {}
    epoch_seconds = record.epoch_seconds
    return {
        "optimizer": config.optimizer,
        "learning_rate": placement.get("learning_rate")
        or config.learning_rate or DEFAULT_LEARNING_RATES[config.optimizer],
        "clipnorm": config.clipnorm,
        "loss": evaluation.loss,
        "metrics": evaluation.metric_names,
        "batch_size": config.batch_size,
        "global_batch_size": placement.get("global_batch_size", config.batch_size),
        "epochs": config.epochs,
        "epochs_run": len(epoch_seconds),
        "seed": config.seed,
        "validation": plan.data.dataset_card(config)["validation"],
        "early_stopping": {
            "patience": config.early_stopping, "monitor": "val_loss",
            "restore_best_weights": config.restore_best_weights,
            "best_epoch": outcome.best_epoch, "stopped_early": outcome.stopped_early,
        } if config.early_stopping else None,
        "started": record.started,
        "finished": record.finished,
        "duration_s": round(record.duration_s, 3),
        "train_s": round(float(sum(epoch_seconds)), 3),
        "evaluation_s": round(evaluation.seconds, 3),
        "epoch_seconds": [round(float(s), 3) for s in epoch_seconds],
        "sessions": record.sessions,
        "device": training.device,
        "distribution": plan.placement,
        "mixed_precision": {"requested": config.mixed_precision,
                            "policy": plan.policy or "float32"},
        **(plan.schedule or {"lr_schedule": {"kind": config.lr_schedule}, "ema": None}),
        "length_buckets": bool(plan.bucketing),
        "float16_weights": config.float16_weights,
        "config": config.to_dict(),
    }


def _metrics_section(config: TrainConfig, outcome: FitOutcome, evaluation: Evaluation,
                     record: RunFacts) -> dict[str, Any]:
    """Test metrics, and the validation and training metrics of the epoch whose weights
    were kept (the best one when early stopping restores it, else the last)."""
    history, best_epoch = record.history, outcome.best_epoch
    chosen_epoch = best_epoch if (best_epoch and config.early_stopping
                                  and config.restore_best_weights) \
        else len(record.epoch_seconds)
    validation_metrics = {}
    if chosen_epoch:
        validation_metrics = {key[4:]: series[chosen_epoch - 1]
                              for key, series in history.items()
                              if key.startswith("val_") and len(series) >= chosen_epoch}
    train_metrics = {key: series[chosen_epoch - 1] for key, series in history.items()
                     if not key.startswith("val_") and chosen_epoch
                     and len(series) >= chosen_epoch}
    return {
        "test": clean_metrics(evaluation.test_metrics),
        "validation": clean_metrics(validation_metrics),
        "train": clean_metrics(train_metrics),
    }


def better_than(card: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    """Whether ``card``'s test score beats ``previous``'s (accuracy up, or loss down)."""
    if previous is None:
        return True
    mine = (card.get("metrics") or {}).get("test") or {}
    theirs = (previous.get("metrics") or {}).get("test") or {}
    if card.get("task") != "regression":
        a, b = _finite(mine.get("accuracy")), _finite(theirs.get("accuracy"))
        if a is not None and b is not None:
            return a > b
    a, b = _finite(mine.get("loss")), _finite(theirs.get("loss"))
    if a is None:
        return False
    return b is None or a < b
