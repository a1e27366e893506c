"""One trial of a search: the engine's data, model and input pipeline, fitted and scored on
validation data held out of the training split.

A trial never sees the test split: the corpus it is given has an empty one (``without_test``),
so nothing a study chooses can have looked at it. Nothing is published or kept: the best
trial is trained again, by the engine, once the search is over (``rnn_tui.tune.study``).

Data preparation (tokenizing, fitting the vocabularies, encoding) depends only on some
settings; trials that share them reuse the last prepared data (``PreparedCache``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rnn_tui.data.corpus import Corpus
from rnn_tui.train.config import TrainConfig
from rnn_tui.train.prepare import PreparedData, prepare_data

# The TrainConfig fields that decide the prepared arrays (everything else is the model's).
_DATA_FIELDS = ("dataset", "dataset_options", "train_limit", "crops", "negations", "level",
                "num_words", "oov_token", "cleaner", "max_token_chars", "lower", "filters",
                "morpheme_tags", "pattern", "squeeze_repeats", "subword_suffix", "space_token",
                "ngrams", "ngram_words", "maxlen", "padding", "truncating", "validation", "seed")


class BudgetSpent(Exception):
    """The search's time ran out in the middle of a trial."""


class SearchStopped(Exception):
    """The user asked to stop (Ctrl-C): the running trial ends at its next batch."""


def without_test(corpus: Corpus) -> Corpus:
    """The corpus with an empty test split: what every trial trains and scores on."""
    return dataclasses.replace(corpus, test=corpus.test.take(np.arange(0)))


class PreparedCache:
    """The last prepared data, reused by a trial with the same data settings."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._data: PreparedData | None = None

    def get(self, config: TrainConfig, corpus: Corpus) -> PreparedData:
        settings = config.to_dict()
        key = json.dumps({name: settings[name] for name in _DATA_FIELDS}, sort_keys=True)
        if key != self._key:
            self._data = None  # free the old arrays before making new ones
            self._data = prepare_data(config, corpus=corpus)
            self._key = key
        return self._data


def fit_trial(
    config: TrainConfig,
    corpus: Corpus,
    cache: PreparedCache,
    *,
    on_epoch: Callable[[int, dict[str, float]], None],
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    more_callbacks: Callable[[Any], list[Any]] | None = None,
) -> dict[str, list[float]]:
    """Fit ``config`` on ``corpus`` (its test split already removed) and return the history.

    ``on_epoch(epoch, logs)`` runs after every epoch with the validation metrics; it may
    raise (Optuna's ``TrialPruned``) to stop the trial. Past ``deadline``
    (``time.monotonic()``), ``BudgetSpent`` is raised at the next batch; when
    ``should_stop()`` turns true, ``SearchStopped``. ``more_callbacks(keras)``: more Keras
    callbacks (TensorBoard).
    """
    from rnn_tui.backend import keras
    from rnn_tui.train.engine import (
        bucketing_choice,
        build_compiled_model,
        resolve_spec,
        seed_everything,
    )
    from rnn_tui.train.pipeline import eval_dataset, steps_for, text_lengths, train_dataset

    data = cache.get(config, corpus)
    if not data.has_validation:
        from rnn_tui.errors import UserError

        raise UserError("trials are scored on validation data: give the space's settings a "
                        "validation fraction such as 0.2")
    keras().backend.clear_session()  # a long search must not pile up old graphs
    seed_everything(config.seed)
    spec = resolve_spec(config, data.model_input)
    bucketing = bucketing_choice(config, spec, data)
    steps = steps_for(len(data.x_train), config.batch_size)
    model, _ = build_compiled_model(
        config, data, spec, lambda event: None, total_steps=steps * config.epochs,
        model_input=dataclasses.replace(data.model_input, length=None) if bucketing else None)
    names = data.stream_names
    train_data, steps = train_dataset(
        data.x_train, data.y_train, batch_size=config.batch_size, seed=config.seed,
        first_epoch=0, epochs=config.epochs,
        lengths=text_lengths(data.x_train) if bucketing else None, stream_names=names)
    validation = eval_dataset(
        data.x_validation, data.y_validation, batch_size=config.batch_size,
        lengths=text_lengths(data.x_validation) if bucketing else None, stream_names=names)

    class Report(keras().callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if should_stop is not None and should_stop():
                raise SearchStopped()
            if deadline is not None and time.monotonic() > deadline:
                raise BudgetSpent()

        def on_epoch_end(self, epoch, logs=None):
            on_epoch(epoch + 1, {key: float(value) for key, value in (logs or {}).items()})

    history = model.fit(train_data, epochs=config.epochs, steps_per_epoch=steps,
                        validation_data=validation, shuffle=False,
                        callbacks=[Report(), *(more_callbacks(keras()) if more_callbacks
                                               else [])],
                        verbose=0)
    return {key: [float(v) for v in values] for key, values in history.history.items()}
