"""A model card as both faces show it: parameter sizes, card values, and the card's readable
sections (``rnn-tui summary`` prints them, the app's Summary pane lays them out).

Plain data: (title, rows) lists and strings, every text from the card escaped.

>>> card_sections({"task": "binary", "labels": ["neg", "pos"]})[0]
('Model', [('task', 'binary'), ('labels', ['neg', 'pos'])])
"""

from __future__ import annotations

from typing import Any

from rnn_tui.terminal import escape

BYTES_PER_PARAM = 4  # float32, as Keras' summary counts them


def human_bytes(params: int) -> str:
    """Keras' way: ``(361.25 KB)`` for the float32 size of N parameters."""
    size = float(params * BYTES_PER_PARAM)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def format_value(value: Any) -> str:
    """One card value as the summary shows it (both faces).

    Cards may come from an imported archive: every text in the result is escaped.

    >>> format_value(["neg\x1b[2J", "pos"])
    'neg␛[2J, pos'
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{escape(str(k))}={format_value(v)}" for k, v in value.items()
                         if v not in (None, ""))
    return escape(str(value))


def card_sections(card: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """(title, rows) of the card's readable parts: dataset, preprocessing, hyperparameters,
    metrics, training."""
    dataset = card.get("dataset") or {}
    model_input = card.get("input") or {}
    vocabulary = card.get("vocabulary") or {}
    architecture = card.get("architecture") or {}
    training = card.get("training") or {}
    early = training.get("early_stopping") or {}
    sections = [
        ("Model", [("task", card.get("task")), ("labels", card.get("labels")),
                   ("language", card.get("language")), ("created", card.get("created"))]),
        ("Dataset", [("name", dataset.get("name")), ("form", dataset.get("form")),
                     ("options", dataset.get("options") or None),
                     ("train rows", dataset.get("train_size")),
                     ("validation rows", dataset.get("validation_size")),
                     ("validation", dataset.get("validation")),
                     ("test rows", dataset.get("test_size"))]),
        ("Preprocessing", [
            ("input", model_input.get("kind")),
            ("level", vocabulary.get("level")), ("cleaner", vocabulary.get("cleaner")),
            ("num_words", vocabulary.get("num_words")),
            ("vocabulary size", vocabulary.get("size")),
            ("oov token", vocabulary.get("oov_token")),
            ("max token chars", vocabulary.get("max_token_chars")),
            ("maxlen", model_input.get("maxlen")), ("padding", model_input.get("padding")),
            ("truncating", model_input.get("truncating")),
            ("timesteps", model_input.get("timesteps")),
            ("channels", model_input.get("channels"))]),
        ("Hyperparameters", [
            ("architecture", architecture.get("compact") or architecture.get("arch")),
            ("named", architecture.get("arch")), ("preset", architecture.get("preset")),
            ("mask_zero", architecture.get("mask_zero")),
            ("pretrained vectors", (architecture.get("vectors") or {}).get("path")),
            ("vector coverage", (architecture.get("vectors") or {}).get("coverage")),
            ("optimizer", training.get("optimizer")),
            ("learning rate", training.get("learning_rate")),
            ("clipnorm", training.get("clipnorm")), ("loss", training.get("loss")),
            ("batch size", training.get("batch_size")),
            ("epochs", f"{training.get('epochs_run')} of {training.get('epochs')}"
             if training.get("epochs") else None),
            ("early stopping", f"patience {early.get('patience')}, best epoch "
             f"{early.get('best_epoch')}" + (", stopped early" if early.get("stopped_early")
                                              else "") if early else None),
            ("seed", training.get("seed"))]),
    ]
    for split, values in (card.get("metrics") or {}).items():
        if values:
            sections.append((f"Metrics ({split})", list(values.items())))
    sections.append(("Training", [
        ("device", training.get("device")), ("started", training.get("started")),
        ("finished", training.get("finished")), ("duration (s)", training.get("duration_s")),
        ("seconds per epoch", _mean(training.get("epoch_seconds"))),
        ("sessions", training.get("sessions"))]))
    sections.append(("Prediction runtime", runtime_rows(card.get("runtime"))))
    return [(title, [(k, v) for k, v in rows if v not in (None, "", [], {})])
            for title, rows in sections]


def runtime_rows(runtime: Any) -> list[tuple[str, Any]]:
    """What the card says of the TensorFlow-free runtime: its weights, how it answers a
    live input (streaming or recomputing, and why) and how closely it matched Keras.

    >>> rows = runtime_rows({"engine": "numpy", "dtype": "float16", "size_bytes": 5827035,
    ...                      "streamable": False, "streaming": "Conv1D: recomputes"})
    >>> rows[1:3]
    [('weights', 'float16, 5.8 MB'), ('as you type', 'Conv1D: recomputes (compiled loops)')]
    """
    if not isinstance(runtime, dict):
        return []
    size = runtime.get("size_bytes")
    weights = ", ".join(part for part in (
        runtime.get("dtype"), f"{size / 1e6:.1f} MB" if isinstance(size, int) else None)
        if part)
    typing = runtime.get("streaming")
    if typing and runtime.get("streamable") is False:
        typing = f"{typing} (compiled loops)"
    check = runtime.get("check") if isinstance(runtime.get("check"), dict) else {}
    checked = None
    if isinstance(check.get("rows"), int) and isinstance(check.get("agreement"), float):
        checked = (f"{check['rows']:,} {check.get('split', 'test')} rows: the same class on "
                   f"{check['agreement']:.3%}")
        if isinstance(check.get("max_abs_difference"), float):
            checked += f", probabilities within {check['max_abs_difference']:.1e}"
    return [("engine", runtime.get("engine")), ("weights", weights or None),
            ("as you type", typing), ("against Keras", checked)]


def one_hot_note(layers: list[dict[str, Any]], params: dict[str, Any]) -> str | None:
    """Why a one-hot model counts more parameters than the tutorial that it follows.

    The tutorials one-hot encode before the model (``to_categorical``), so their summary
    counts the recurrent layers only; here the encoding is a frozen identity Embedding
    inside the model (one graph for Keras and the runtime), whose matrix Keras counts.
    """
    frozen = sum(int(layer.get("params") or 0) for layer in layers
                 if layer.get("name") == "one_hot" and layer.get("trainable") is False)
    total = params.get("total")
    if not frozen or not isinstance(total, int):
        return None
    return (f" one_hot: the one-hot encoding as a frozen identity Embedding ({frozen:,} "
            f"fixed 0/1 entries, never trained); a tutorial that encodes with to_categorical "
            f"before the model counts {total - frozen:,} params")


def _mean(values: list[float] | None) -> float | None:
    return sum(values) / len(values) if values else None
