"""Teaching: a new version of a model, fine-tuned from its weights on its corrections.

The corrections alone would teach the model their words and make it forget the rest, so
each epoch mixes them (repeated, so that they are ``CORRECTION_SHARE`` of the rows) with a
replay sample of the model's own training data: the first ``replay`` texts of the corpus
named in its card, augmented as they were then (crops, negations), encoded with the
model's own vocabularies. The learning rate is a fraction of the one it was trained with,
constant. The result is published as a new version of the same name, whose card records
its parent, the corrections and the test accuracy before (the parent's card) and after
(measured); no alias moves unless asked.

>>> result = teach("imdb-sentiment", on_event=print)                # doctest: +SKIP
>>> result.model_ref, result.test_before, result.test_after          # doctest: +SKIP
('imdb-sentiment:2', 0.9019, 0.9012)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from rnn_tui.errors import DataError, UserError
from rnn_tui.teach.corrections import Correction, Corrections, check_teachable
from rnn_tui.train.events import (
    BatchEnded,
    EpochEnded,
    EpochStarted,
    Event,
    Note,
    RunFinished,
    RunStarted,
)

DEFAULT_EPOCHS = 2
REPLAY_TEXTS = 2000
CORRECTION_SHARE = 0.1  # of each epoch's rows: enough to learn them, little enough to keep
LEARNING_RATE_FRACTION = 0.3  # of the rate the model was trained with
# Card keys the registry stamps again, or that described the parent's files.
_PARENT_ONLY = ("format", "format_version", "name", "version", "created", "files",
                "card_sha256", "runtime", "packages")


@dataclass
class TeachResult:
    """What teaching did: the new version, its parent, and the effect."""

    model_ref: str
    parent_ref: str
    corrections: int
    unknown_words: int
    words: int
    test_before: float | None
    test_after: float | None
    right_before: int
    right_after: int
    seconds: float
    aliases: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    card: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: ``imdb-sentiment:2 (from :1): 48/50 corrections right (was 3/50), test
        accuracy 90.19% -> 90.12%``."""
        line = (f"{self.model_ref} (from {self.parent_ref}): {self.right_after}/"
                f"{self.corrections} corrections right (was {self.right_before}/"
                f"{self.corrections})")
        if self.test_before is not None and self.test_after is not None:
            change = 100 * (self.test_after - self.test_before)
            line += (f", test accuracy {100 * self.test_before:.2f}% -> "
                     f"{100 * self.test_after:.2f}% ({change:+.2f} points)")
        return line


@dataclass
class Lesson:
    """The usable corrections of a model, encoded, and what could not be used."""

    corrections: list[Correction]
    x: np.ndarray
    y: np.ndarray
    words: int
    unknown_words: int
    problems: list[str]


def read_lesson(name: str, labels: list[str], features: Any, *, maxlen: int, padding: str,
                truncating: str, store: Corrections | None = None) -> Lesson:
    """The corrections of ``name`` that a model with these labels and vocabularies can
    learn; unreadable lines, unknown labels and texts without a readable word become
    problems (one line each). Raises UserError when none is left."""
    store = store or Corrections.for_model(name)
    found = store.read()
    problems = [str(problem) for problem in found.problems]
    usable: list[Correction] = []
    token_lists: list[list[str]] = []
    words = unknown = 0
    oov = features.vocabulary.oov_index
    for number, correction in enumerate(found.corrections, start=1):
        if correction.label not in labels:
            problems.append(f"{store.path}: correction {number}: {name} has no label "
                            f"{correction.label!r} (skipped)")
            continue
        tokens = features.tokenize(correction.text)
        if not tokens:
            problems.append(f"{store.path}: correction {number}: no words the model can read "
                            "(skipped)")
            continue
        ids = features.vocabulary.tokens_to_ids(tokens)
        words += len(ids)
        unknown += sum(1 for i in ids if i == oov)
        usable.append(correction)
        token_lists.append(tokens)
    if not usable:
        why = " that it can learn" if found.corrections else ""
        raise UserError(f"no corrections of {name}{why} in {store.path}: mark wrong verdicts "
                        f"in the app, or `rnn-tui predict -m {name} TEXT --label LABEL`, "
                        "then teach")
    x = features.encode_tokens(token_lists, maxlen=maxlen, padding=padding,
                               truncating=truncating)
    y = np.asarray([labels.index(c.label) for c in usable], dtype=np.int32)
    return Lesson(usable, x, y, words, unknown, problems)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _training_config(card: dict[str, Any], ref: str) -> Any:
    from rnn_tui.train.config import TrainConfig

    config = (card.get("training") or {}).get("config")
    if not isinstance(config, dict):
        raise UserError(f"{ref} has no training configuration in its card (an imported "
                        "model?): there is no training data to replay, so teaching it could "
                        "make it forget what it knew")
    try:
        return TrainConfig.from_dict(config)
    except (TypeError, ValueError) as error:
        raise DataError(f"the training configuration in the card of {ref} cannot be read: "
                        f"{error}") from None


def _classes(outputs: np.ndarray) -> np.ndarray:
    return (outputs[:, 0] > 0.5).astype(int) if outputs.shape[1] == 1 \
        else outputs.argmax(axis=1)


def _progress_callback(keras: Any, emit: Callable[[Event], None], epochs: int, steps: int,
                       rows: int) -> Any:
    """Epoch and batch events for the renderers and the app's training pane."""

    class Progress(keras.callbacks.Callback):
        epoch_seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.time()
            self.epoch = epoch + 1
            emit(EpochStarted(epoch=self.epoch, epochs=epochs))

        def on_train_batch_end(self, batch, logs=None):
            if batch % 5 == 0 or batch + 1 == steps:
                emit(BatchEnded(epoch=self.epoch, step=batch + 1, steps=steps,
                                logs={k: float(v) for k, v in (logs or {}).items()}))

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.time() - self.started
            self.epoch_seconds.append(round(seconds, 3))
            emit(EpochEnded(epoch=epoch + 1, epochs=epochs, seconds=round(seconds, 3),
                            logs={k: float(v) for k, v in (logs or {}).items()},
                            samples_per_second=rows / seconds if seconds else None))

    return Progress()


def teach(ref: str, *, alias: str | None = None, epochs: int = DEFAULT_EPOCHS,
          replay: int = REPLAY_TEXTS, learning_rate: float | None = None,
          registries: Any = None, corpus: Any = None,
          on_event: Callable[[Event], None] | None = None) -> TeachResult:
    """Fine-tune ``ref`` on its name's corrections plus a replay sample; publish the result.

    Args:
        ref: the parent version (``name``, ``name:2``, ``name@best``).
        alias: an alias to point at the new version (none moves otherwise, "best" neither).
        epochs: passes over the mix of corrections and replay rows.
        replay: how many training texts of the parent's corpus to mix in (0: none, and no
            test split to measure on either).
        learning_rate: default ``LEARNING_RATE_FRACTION`` of the parent's rate.
        corpus: an already loaded corpus (tests); default: the one the card names.
    """
    started_at = time.time()
    started = _now()
    emit = on_event or (lambda event: None)
    if registries is None:
        from rnn_tui.registry import open_registries

        registries = open_registries()
    if alias is not None:
        from rnn_tui.registry.names import check_alias

        check_alias(alias)
    parent = registries.resolve(ref)
    card = parent.card
    name = parent.name
    labels = list(card.get("labels") or [])
    check_teachable(name, (card.get("input") or {}).get("kind", "text"), card.get("task"),
                    labels)

    from rnn_tui.text.features import TextFeatures

    model_input = card["input"]
    features = TextFeatures.load(parent.path, model_input.get("features"))
    maxlen = int(model_input["maxlen"])
    padding = model_input.get("padding", "post")
    truncating = model_input.get("truncating", "pre")
    lesson = read_lesson(name, labels, features, maxlen=maxlen, padding=padding,
                         truncating=truncating)
    config = _training_config(card, parent.ref) if replay else None

    from rnn_tui.backend import keras
    from rnn_tui.registry import load_keras_model
    from rnn_tui.train.engine import make_optimizer, seed_everything
    from rnn_tui.train.pipeline import (
        eval_dataset,
        predict_in_order,
        text_lengths,
        train_dataset,
    )

    training = card.get("training") or {}
    seed = int(training.get("seed") or 0)
    seed_everything(seed)
    model = load_keras_model(parent, compile=False)
    names = features.names if features.count > 1 else None
    bucketing = bool(training.get("length_buckets"))

    def lengths_of(x):
        return text_lengths(x) if bucketing else None

    batch_size = int(training.get("batch_size") or 64)
    right_before = int(np.sum(_classes(predict_in_order(
        model, lesson.x, batch_size=batch_size, lengths=lengths_of(lesson.x),
        stream_names=names)) == lesson.y))

    data = None
    x_replay = np.zeros((0, *lesson.x.shape[1:]), lesson.x.dtype)
    y_replay = np.zeros((0,), np.int32)
    if replay:
        from rnn_tui.train.prepare import prepare_data

        data = prepare_data(config.replace(train_limit=replay, validation="none"),
                            corpus=corpus, vocabulary=features)
        x_replay, y_replay = data.x_train, np.asarray(data.y_train, np.int32)
        if x_replay.shape[1:] != lesson.x.shape[1:]:
            raise DataError(f"the training data of {parent.ref} no longer encodes to the "
                            f"model's input ({x_replay.shape[1:]} vs {lesson.x.shape[1:]})")
    stages = {"prepare_s": round(time.time() - started_at, 1)}
    repeats = max(1, round(CORRECTION_SHARE * len(x_replay)
                           / ((1 - CORRECTION_SHARE) * len(lesson.y))))
    x = np.concatenate([x_replay, np.repeat(lesson.x, repeats, axis=0)])
    y = np.concatenate([y_replay, np.repeat(lesson.y, repeats)])

    base_rate = float(training.get("learning_rate") or 0.001)
    rate = learning_rate if learning_rate is not None else base_rate * LEARNING_RATE_FRACTION
    if config is None:  # no replay: the optimizer as the card describes it
        from rnn_tui.train.config import TrainConfig

        config = TrainConfig(optimizer=training.get("optimizer") or "adam",
                             clipnorm=training.get("clipnorm"))
    optimizer_config = config.replace(lr_schedule="constant", ema=None)
    loss = training.get("loss") or ("binary_crossentropy" if card.get("task") == "binary"
                                    else "sparse_categorical_crossentropy")
    model.compile(optimizer=make_optimizer(optimizer_config, rate), loss=loss,
                  metrics=["accuracy"])
    dataset, steps = train_dataset(x, y, batch_size=batch_size, seed=seed, first_epoch=0,
                                   epochs=epochs, lengths=lengths_of(x), stream_names=names)
    emit(RunStarted(name=name, config={"teach": parent.ref, "epochs": epochs,
                                       "learning_rate": rate, "replay": replay},
                    epochs=epochs, steps_per_epoch=steps,
                    params={"total": int(model.count_params())}, train_size=len(x),
                    test_size=0 if data is None else len(data.x_test)))
    emit(Note(text=f"teaching {parent.ref}: {len(lesson.y)} corrections (each seen "
                   f"{repeats}x per epoch) + {len(x_replay):,} replay rows of "
                   f"{card.get('dataset', {}).get('name', '?')}", topic="data"))
    if lesson.unknown_words:
        emit(Note(text=f"{lesson.unknown_words} of the corrections' {lesson.words} words are "
                       "not in the vocabulary: the model cannot learn those words, only "
                       "their context", topic="data"))
    for problem in lesson.problems:
        emit(Note(text=problem, topic="data"))
    fit_started = time.time()
    progress = _progress_callback(keras(), emit, epochs, steps, len(x))
    progress.epoch_seconds = []
    history = model.fit(dataset, epochs=epochs, steps_per_epoch=steps, shuffle=False,
                        verbose=0, callbacks=[progress])
    right_after = int(np.sum(_classes(predict_in_order(
        model, lesson.x, batch_size=batch_size, lengths=lengths_of(lesson.x),
        stream_names=names)) == lesson.y))

    stages["fit_s"] = round(time.time() - fit_started, 1)
    evaluation_started = time.time()
    test_before = ((card.get("metrics") or {}).get("test") or {}).get("accuracy")
    test_metrics: dict[str, float] = {}
    if data is not None:
        test_metrics = {key: float(value) for key, value in model.evaluate(
            eval_dataset(data.x_test, data.y_test, batch_size=batch_size,
                         lengths=lengths_of(data.x_test), stream_names=names),
            return_dict=True, verbose=0).items()}
    test_after = test_metrics.get("accuracy")
    stages["evaluate_s"] = round(time.time() - evaluation_started, 1)

    epoch_seconds = progress.epoch_seconds
    finished = _now()
    duration = round(time.time() - started_at, 3)
    new_card = {key: value for key, value in card.items() if key not in _PARENT_ONLY}
    new_card["metrics"] = {**(card.get("metrics") or {}), "test": test_metrics} \
        if test_metrics else {}
    new_card["history"] = {key: [float(v) for v in values]
                           for key, values in history.history.items()}
    new_card["training"] = {
        **training, "learning_rate": rate, "lr_schedule": None, "ema": None,
        "epochs": epochs, "epochs_run": epochs, "started": started, "finished": finished,
        "duration_s": duration, "epoch_seconds": epoch_seconds or [duration],
        "early_stopping": None, "sessions": 1}
    new_card["teach"] = {
        "parent": parent.ref, "parent_version": parent.version,
        "parent_source": parent.source, "corrections": len(lesson.y),
        "corrections_file": str(Corrections.for_model(name).path),
        "words": lesson.words, "unknown_words": lesson.unknown_words,
        "replay_rows": int(len(x_replay)), "repeats": repeats, "epochs": epochs,
        "learning_rate": rate, "test_accuracy_before": test_before,
        "test_accuracy_after": test_after, "corrections_right_before": right_before,
        "corrections_right_after": right_after, "problems": len(lesson.problems),
        **stages}
    notes = list(card.get("notes") or [])
    notes.append(f"taught from {parent.ref}: {len(lesson.y)} corrections + "
                 f"{len(x_replay):,} replay rows, {epochs} epoch(s) at {rate:g}")
    new_card["notes"] = notes

    version, aliases = _publish(registries, parent, model, new_card, features,
                                float16=bool(training.get("float16_weights")), emit=emit)
    if alias is not None:
        registries.set_alias(name, alias, version.version)
        aliases.append(alias)
    result = TeachResult(
        model_ref=version.ref, parent_ref=parent.ref, corrections=len(lesson.y),
        unknown_words=lesson.unknown_words, words=lesson.words, test_before=test_before,
        test_after=test_after, right_before=right_before, right_after=right_after,
        seconds=round(time.time() - started_at, 3), aliases=aliases,
        problems=lesson.problems, card=version.card)
    emit(RunFinished(name=name, model_ref=version.ref, test_metrics=test_metrics,
                     duration_s=result.seconds, epochs_run=epochs, aliases=aliases))
    return result


def _publish(registries: Any, parent: Any, model: Any, card: dict[str, Any], features: Any,
             *, float16: bool, emit: Callable[[Event], None]) -> tuple[Any, list[str]]:
    """Publish into the user's registry. A shipped parent is first copied there as it is
    (with its aliases): the user's registry then holds the name, so the parent stays
    reachable by its ref and the new version gets the next number."""
    from rnn_tui.train.publish import publish_model

    name = parent.name
    if parent.source != "user" and not registries.user.has_model(name):
        copy = registries.user.publish(name, parent.path, dict(parent.card),
                                       aliases=parent.aliases)
        emit(Note(text=f"{parent.ref} is a shipped model: copied into your registry as "
                       f"{copy.ref} (with its aliases), so it stays beside its taught "
                       "version", topic="publish"))
        card["teach"]["parent"] = copy.ref
        card["teach"]["parent_version"] = copy.version
    # No runtime check against Keras on the whole test split (a training run's
    # runtime.check): it would double teach's time, and the parent's check already showed
    # this architecture's runtime agreeing with Keras.
    return publish_model(name, model, None, card, registries=registries, on_event=emit,
                         features=features, float16=float16, claim_best=False)
