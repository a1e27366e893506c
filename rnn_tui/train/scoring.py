"""Scoring a published model on a corpus split (``rnn-tui evaluate``).

The model's own preprocessing comes from its version folder (vocabulary.json and the card's
``input``), so the ids are exactly those it was trained on. A "validation" or "train" split of
a model trained with a fraction held out is rebuilt from the card's training config (same
seed, same rows).

>>> report = evaluate_version(open_registries().resolve("imdb-lstm"))   # doctest: +SKIP
>>> report["accuracy"]                                                   # doctest: +SKIP
0.87
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import DataError, UserError
from rnn_tui.train.evaluation import report_for

SPLITS = ("test", "validation", "train")


def _training_config(card: dict[str, Any]) -> Any:
    from rnn_tui.train.config import TrainConfig

    data = (card.get("training") or {}).get("config")
    if not isinstance(data, dict):
        return None
    try:
        return TrainConfig.from_dict(data)
    except (UserError, TypeError):
        return None


def choose_split(corpus: Corpus, split: str, card: dict[str, Any], same_dataset: bool) -> Split:
    """The rows of ``split``; train/validation follow the model's own split when known."""
    if split not in SPLITS:
        raise UserError(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    if split == "test":
        return corpus.test
    config = _training_config(card) if same_dataset else None
    if config is not None:
        from rnn_tui.train.prepare import split_for_validation

        train, validation, _ = split_for_validation(corpus, config)
        if split == "train":
            return train
        if validation is None:
            raise UserError("this model was trained without validation data")
        return validation
    if split == "train":
        return corpus.train
    if corpus.validation is None:
        raise UserError(f"{corpus.name} has no validation split of its own")
    return corpus.validation


def model_inputs(version: Any, rows: Split) -> np.ndarray:
    """The arrays the model reads for ``rows``: padded ids (text; (rows, maxlen, streams)
    with n-gram features) or the features."""
    card = version.card
    model_input = card.get("input") or {}
    if model_input.get("kind") == "sequence":
        if rows.features is None:
            raise UserError(f"{version.ref} reads numeric sequences; this dataset has texts")
        return np.asarray(rows.features, dtype=np.float32)
    if rows.texts is None:
        raise UserError(f"{version.ref} reads texts; this dataset has numeric sequences")
    from rnn_tui.text.features import TextFeatures

    if not version.has_file("vocabulary.json"):
        raise DataError("the version has no vocabulary.json", version.path)
    features = TextFeatures.load(version.path, model_input.get("features"))
    return features.encode(rows.texts, maxlen=model_input.get("maxlen"),
                           padding=model_input.get("padding", "pre"),
                           truncating=model_input.get("truncating", "pre"))


def _batch_reporter(report_stage: Callable[[str, int, int], None], batches: int) -> Any:
    """A Keras callback that reports each predicted batch as ("scoring", done, batches)."""
    from rnn_tui.backend import keras

    class BatchReporter(keras().callbacks.Callback):
        def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
            report_stage("scoring", min(batch + 1, batches), batches)

    return BatchReporter()


def evaluate_version(version: Any, *, dataset: str | None = None, split: str = "test",
                     batch_size: int = 256, limit: int | None = None,
                     corpus: Corpus | None = None,
                     progress: Callable[[str, int, int], None] | None = None
                     ) -> dict[str, Any]:
    """Score a registry version on a split of its dataset (or ``dataset``).

    ``progress(stage, done, total)`` hears each stage as it starts ("loading the corpus",
    "loading the model"; done = total = 0), then every predicted batch ("scoring").
    """
    def report_stage(stage: str, done: int = 0, total: int = 0) -> None:
        if progress is not None:
            progress(stage, done, total)

    card = version.card
    card_dataset = card.get("dataset") or {}
    config = _training_config(card)
    # The name the model was trained with: a catalog name, or the path of your own file.
    own = config.dataset if config is not None else card_dataset.get("name")
    name = dataset or own
    if not name:
        raise UserError(f"{version.ref}'s card names no dataset: give --dataset")
    same_dataset = name in (own, card_dataset.get("name"))
    if corpus is None:
        from rnn_tui.data import load_corpus

        report_stage(f"loading {name}")
        options = dict(card_dataset.get("options") or {}) if same_dataset else {}
        corpus = load_corpus(own if same_dataset else name, **options)
    if corpus.task != card["task"]:
        raise UserError(f"{version.ref} is a {card['task']} model; {name} is a {corpus.task} "
                        "corpus")
    labels = list(card.get("labels") or [])
    if corpus.task != "regression" and labels and len(labels) != len(corpus.label_names):
        raise UserError(f"{version.ref} knows {len(labels)} classes; {name} has "
                        f"{len(corpus.label_names)}")
    rows = choose_split(corpus, split, card, same_dataset)
    if limit is not None:
        rows = rows.take(np.arange(min(limit, len(rows))))
    if len(rows) == 0:
        raise UserError(f"the {split} split of {name} is empty")
    report_stage(f"encoding {len(rows):,} rows")
    inputs = model_inputs(version, rows)

    from rnn_tui.registry import load_keras_model
    from rnn_tui.train.pipeline import predict_in_order, text_lengths

    report_stage(f"loading {version.ref}")
    model = load_keras_model(version, compile=False)
    features = (card.get("input") or {}).get("features")
    names = [entry["name"] for entry in features] if isinstance(features, list) else None
    # trained with length buckets: batches padded to their longest text give the same answers
    bucketed = bool((card.get("training") or {}).get("length_buckets")) and inputs.ndim >= 2 \
        and model.inputs[0].shape[1] is None
    batches = -(-len(rows) // batch_size)
    report_stage("scoring", 0, batches)
    outputs = predict_in_order(model, inputs, batch_size=batch_size,
                               lengths=text_lengths(inputs) if bucketed else None,
                               stream_names=names,
                               callbacks=[_batch_reporter(report_stage, batches)]
                               if progress is not None else ())
    report = report_for(corpus.task, rows.labels, outputs, labels or corpus.label_names)
    return {"ref": version.ref, "dataset": name, "split": split, "rows": len(rows), **report}
