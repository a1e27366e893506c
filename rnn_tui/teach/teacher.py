"""Teaching: a new version of a model, fine-tuned from its weights on its corrections.

What changes is small on purpose: only the embedding rows of the corrections' ids that are
not among the most frequent of their stream ("nuts", "stupid good", "was nuts"; not "the",
"was", "good"), so a text without such an id reads exactly as before. Each epoch mixes the
corrections (repeated, ``CORRECTION_SHARE`` of the rows) with a replay sample of the
model's own training data (the first ``replay`` texts of the corpus its card names,
augmented as then, encoded with its own vocabularies) whose targets are the parent's own
answers (distillation): the taught rows may not change what the parent said on them. The
corrections' repeated copies lose, in half of them, half their tokens at random
(``CONTEXT_DROPOUT``), so what is learnt is carried by their words, not by the sentence
around them. The
result is published as the next version of the same name; its card records the parent,
the corrections and the test accuracy before (the parent's card) and after (measured on
the whole test split); no alias moves unless asked.

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

DEFAULT_EPOCHS = 5  # at most: teaching stops once the corrections are learnt (CONFIDENT)
REPLAY_TEXTS = 1000
CORRECTION_SHARE = 0.1  # of each epoch's rows: enough to learn them, little enough to keep
LEARNING_RATE = 0.01  # few embedding rows move: they may move fast
CONFIDENT = 0.999  # teaching stops once every correction is this sure (or after --epochs)
# Of half the repeated copies of each correction, this share of tokens is made OOV (the other
# half stays whole): a correction's words must then carry its label without the rest of its
# sentence, so texts that put them in other sentences are read as taught. bench/teach.py,
# imdb-sentiment held-out texts right, seeds 0-4: 95.0/86.7/91.7/98.3/96.7 % without,
# 96.7/95.0/100/100/98.3 % with it (nsmc-sentiment: 100 % either way; test accuracy the same).
CONTEXT_DROPOUT = 0.5
COMMON_IDS = 1000  # per stream, the most frequent ids (ids are frequency ranks; at most a
# tenth of a small vocabulary) stay fixed
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


def editable_rows(model: Any, x: np.ndarray, features: Any
                  ) -> list[tuple[int, Any, np.ndarray]]:
    """(stream index, Embedding layer, mask of its rows that may change) per input stream.

    Only the rows of ids in the corrections that are not among the ``COMMON_IDS`` most
    frequent of their stream (a tenth of a smaller one), nor padding or OOV, may change:
    "nuts", "stupid good", "was nuts" may learn a new meaning; "the", "was", "good" stay
    as the rest of the training data taught them, and every text without a taught id
    reads exactly as before.
    """
    from rnn_tui.backend import keras

    embeddings = [layer for layer in model.layers
                  if isinstance(layer, keras().layers.Embedding)]
    streams = x if x.ndim == 3 else x[..., None]
    found = []
    for index, size in enumerate(features.sizes):
        layers = [layer for layer in embeddings if int(layer.input_dim) == int(size)]
        if len(layers) != 1:  # two streams of one size: which is which is unknown
            continue
        ids = np.unique(streams[..., index])
        mask = np.zeros(int(size), dtype=bool)
        common = max(min(COMMON_IDS, int(size) // 10), 1)  # never the padding nor OOV (1)
        mask[ids[ids > common]] = True
        found.append((index, layers[0], mask))
    return found


def touched(x: np.ndarray, editable: list[tuple[int, Any, np.ndarray]]) -> np.ndarray:
    """Which rows of ``x`` hold an id whose embedding may change: only their outputs can
    differ after teaching (every other weight, and every other row, stays as it was)."""
    streams = x if x.ndim == 3 else x[..., None]
    hit = np.zeros(len(x), dtype=bool)
    for index, _, mask in editable:
        hit |= mask[streams[..., index]].any(axis=1)
    return hit


def _test_after(before: dict[str, Any], labels: np.ndarray, outputs_before: np.ndarray,
                outputs_after: np.ndarray) -> dict[str, float]:
    """The test metrics after teaching, from the parent's (its card) and the change on the
    rows that could change: exact, since the other rows' outputs are the parent's."""
    from rnn_tui.train.evaluation import class_probabilities, cross_entropy

    rows = int(before["rows"])
    old = class_probabilities(outputs_before)
    new = class_probabilities(outputs_after)
    right_change = int(np.sum(new.argmax(axis=1) == labels)) \
        - int(np.sum(old.argmax(axis=1) == labels))
    metrics = {"accuracy": float(before["accuracy"]) + right_change / rows}
    if isinstance(before.get("loss"), (int, float)) and len(labels):
        metrics["loss"] = float(before["loss"]) + len(labels) * (
            cross_entropy(labels, new) - cross_entropy(labels, old)) / rows
    return metrics


def _stop_when_learnt(keras: Any, score: Callable[[], np.ndarray], labels: np.ndarray) -> Any:
    """Stop at the end of the first epoch after which every correction's label has at least
    ``CONFIDENT`` probability: a margin for texts like them, and no more drift than needed."""

    class StopWhenLearnt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            from rnn_tui.train.evaluation import class_probabilities

            probabilities = class_probabilities(score())
            if probabilities[np.arange(len(labels)), labels].min() >= CONFIDENT:
                self.model.stop_training = True

    return StopWhenLearnt()


def _keep_rows(keras: Any, editable: list[tuple[int, Any, np.ndarray]]) -> Any:
    """After each step, put back every embedding row outside ``editable``'s masks (Adam
    moves every row a batch touched)."""
    class KeepRows(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.kept = [(layer.embeddings, layer.embeddings.numpy(), mask[:, None])
                         for _, layer, mask in editable]

        def on_train_batch_end(self, batch, logs=None):
            for variable, original, mask in self.kept:
                variable.assign(np.where(mask, variable.numpy(), original))

    return KeepRows()


def teach(ref: str, *, alias: str | None = None, epochs: int = DEFAULT_EPOCHS,
          replay: int = REPLAY_TEXTS, learning_rate: float | None = None,
          registries: Any = None, corpus: Any = None,
          on_event: Callable[[Event], None] | None = None) -> TeachResult:
    """Fine-tune ``ref`` on its name's corrections plus a replay sample; publish the result.

    Args:
        ref: the parent version (``name``, ``name:2``, ``name@best``).
        alias: an alias to point at the new version (none moves otherwise, "best" neither).
        epochs: at most this many passes over the corrections and replay rows (it stops
            once every correction is ``CONFIDENT``).
        replay: how many training texts of the parent's corpus to mix in (0: none, and no
            test split to measure on either).
        learning_rate: Adam's rate for the embedding rows taught (``LEARNING_RATE``).
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
    if replay:
        from rnn_tui.train.prepare import prepare_data

        data = prepare_data(config.replace(train_limit=replay, validation="none"),
                            corpus=corpus, vocabulary=features)
        x_replay = data.x_train
        if x_replay.shape[1:] != lesson.x.shape[1:]:
            raise DataError(f"the training data of {parent.ref} no longer encodes to the "
                            f"model's input ({x_replay.shape[1:]} vs {lesson.x.shape[1:]})")
    # Replay rows keep the parent's own answers (distillation): what is not corrected
    # should read as before, which true labels on a small sample would not give.
    y_replay = predict_in_order(model, x_replay, batch_size=batch_size,
                                lengths=lengths_of(x_replay), stream_names=names) \
        if len(x_replay) else np.zeros((0, int(model.outputs[0].shape[-1])), np.float32)
    width = y_replay.shape[1]
    stages = {"prepare_s": round(time.time() - started_at, 1)}
    x, y, repeats = _mix(lesson, x_replay, y_replay)

    rate = learning_rate if learning_rate is not None else LEARNING_RATE
    if config is None:  # no replay: the optimizer as the card describes it
        from rnn_tui.train.config import TrainConfig

        config = TrainConfig(optimizer=training.get("optimizer") or "adam",
                             clipnorm=training.get("clipnorm"))
    optimizer_config = config.replace(lr_schedule="constant", ema=None)
    loss = "binary_crossentropy" if width == 1 else "categorical_crossentropy"
    editable = editable_rows(model, lesson.x, features)
    taught = {id(layer) for _, layer, _ in editable}
    for layer in model.layers:  # only the taught embeddings learn
        layer.trainable = id(layer) in taught
    model.compile(optimizer=make_optimizer(optimizer_config, rate), loss=loss)
    dataset, steps = train_dataset(x, y, batch_size=batch_size, seed=seed, first_epoch=0,
                                   epochs=epochs, lengths=lengths_of(x), stream_names=names)
    emit(RunStarted(name=name, config={"teach": parent.ref, "epochs": epochs,
                                       "learning_rate": rate, "replay": replay},
                    epochs=epochs, steps_per_epoch=steps,
                    params={"total": int(model.count_params())}, train_size=len(x),
                    test_size=0 if data is None else len(data.x_test)))
    rows_taught = sum(int(mask.sum()) for _, _, mask in editable)
    _announce(emit, parent, lesson, repeats=repeats, replay_rows=len(x_replay),
              rows_taught=rows_taught)

    def outputs(x_rows: np.ndarray) -> np.ndarray:
        return predict_in_order(model, x_rows, batch_size=batch_size,
                                lengths=lengths_of(x_rows), stream_names=names)

    test_before_metrics = dict(((card.get("metrics") or {}).get("test") or {}))
    test_before_metrics["rows"] = (card.get("dataset") or {}).get("test_size")
    exact = data is not None and isinstance(test_before_metrics.get("accuracy"), float) \
        and test_before_metrics["rows"] == len(data.x_test)
    if exact:  # only the rows holding a taught id can change: score them before and after
        test_rows = touched(data.x_test, editable)
        outputs_before = outputs(data.x_test[test_rows])
    fit_started = time.time()
    progress = _progress_callback(keras(), emit, epochs, steps, len(x))
    progress.epoch_seconds = []
    history = model.fit(dataset, epochs=epochs, steps_per_epoch=steps, shuffle=False,
                        verbose=0, callbacks=[progress, _keep_rows(keras(), editable),
                                              _stop_when_learnt(keras(),
                                                                lambda: outputs(lesson.x),
                                                                lesson.y)])
    epochs_run = len(progress.epoch_seconds)
    if epochs_run < epochs:
        emit(Note(text=f"stopped after epoch {epochs_run} of {epochs}: every correction is "
                       f"{CONFIDENT:.1%} sure", topic="early-stopping"))
    right_after = int(np.sum(_classes(outputs(lesson.x)) == lesson.y))

    stages["fit_s"] = round(time.time() - fit_started, 1)
    evaluation_started = time.time()
    test_before = test_before_metrics.get("accuracy")
    test_metrics: dict[str, float] = {}
    if exact:
        test_metrics = _test_after(test_before_metrics, np.asarray(data.y_test)[test_rows],
                                   outputs_before, outputs(data.x_test[test_rows]))
        stages["test_rows_scored"] = int(test_rows.sum())
    elif data is not None:  # no test metrics on the parent's card: the whole split
        model.compile(loss=training.get("loss") or ("binary_crossentropy" if width == 1 else
                                                    "sparse_categorical_crossentropy"),
                      metrics=["accuracy"])  # as trained: the test labels are class ids
        test_metrics = {key: float(value) for key, value in model.evaluate(
            eval_dataset(data.x_test, data.y_test, batch_size=batch_size,
                         lengths=lengths_of(data.x_test), stream_names=names),
            return_dict=True, verbose=0).items()}
    test_after = test_metrics.get("accuracy")
    stages["evaluate_s"] = round(time.time() - evaluation_started, 1)

    duration = round(time.time() - started_at, 3)
    training_run = {
        "learning_rate": rate, "lr_schedule": None, "ema": None, "epochs": epochs,
        "epochs_run": epochs_run, "started": started, "finished": _now(),
        "duration_s": duration, "epoch_seconds": progress.epoch_seconds or [duration],
        "early_stopping": None, "sessions": 1}
    taught = {
        "parent": parent.ref, "parent_version": parent.version,
        "parent_source": parent.source, "corrections": len(lesson.y),
        "corrections_file": str(Corrections.for_model(name).path),
        "words": lesson.words, "unknown_words": lesson.unknown_words,
        "replay_rows": int(len(x_replay)), "repeats": repeats, "epochs": epochs_run,
        "embedding_rows_taught": rows_taught,
        "learning_rate": rate, "test_accuracy_before": test_before,
        "test_accuracy_after": test_after, "corrections_right_before": right_before,
        "corrections_right_after": right_after, "problems": len(lesson.problems),
        **stages}
    note = (f"taught from {parent.ref}: {len(lesson.y)} corrections + {len(x_replay):,} "
            f"replay rows, {epochs_run} epoch(s) at {rate:g}; only the {rows_taught} "
            "embedding rows of its less common ids changed")
    new_card = _taught_card(card, training_run, taught, history.history, test_metrics, note)

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
                     duration_s=result.seconds, epochs_run=epochs_run, aliases=aliases))
    return result


def _mix(lesson: Lesson, x_replay: np.ndarray, y_replay: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, int]:
    """(rows, targets, repeats): the replay rows, then the corrections repeated so that
    they are ``CORRECTION_SHARE`` of the rows (one-hot targets, or one sigmoid column)."""
    width = y_replay.shape[1]
    y_lesson = lesson.y[:, None].astype(np.float32) if width == 1 \
        else np.eye(width, dtype=np.float32)[lesson.y]
    repeats = max(1, round(CORRECTION_SHARE * len(x_replay)
                           / ((1 - CORRECTION_SHARE) * len(lesson.y))))
    copies = np.tile(lesson.x, (repeats,) + (1,) * (lesson.x.ndim - 1))
    whole = len(lesson.x) * max(1, (repeats + 1) // 2)  # half the copies (the first) whole
    if CONTEXT_DROPOUT and repeats > 1:
        copies[whole:] = _drop_tokens(copies[whole:], CONTEXT_DROPOUT)
    x = np.concatenate([x_replay, copies])
    y = np.concatenate([y_replay.astype(np.float32),
                        np.tile(y_lesson, (repeats,) + (1,) * (y_lesson.ndim - 1))])
    return x, y, repeats


def _drop_tokens(x: np.ndarray, rate: float) -> np.ndarray:
    """``x`` with a share ``rate`` of its tokens (every stream at a position) made OOV (id
    1), seeded: a correction's words must carry its label without the rest of its frame."""
    rng = np.random.default_rng(0)
    streams = x if x.ndim == 3 else x[..., None]
    drop = (rng.random(streams.shape[:2]) < rate) & (streams[..., 0] > 1)
    dropped = np.where(drop[..., None], 1, streams).astype(x.dtype)
    return dropped if x.ndim == 3 else dropped[..., 0]


def _announce(emit: Callable[[Event], None], parent: Any, lesson: Lesson, *, repeats: int,
              replay_rows: int, rows_taught: int) -> None:
    """The notes a teaching run starts with: what it learns from, what cannot be learnt."""
    corpus = (parent.card.get("dataset") or {}).get("name", "?")
    emit(Note(text=f"teaching {parent.ref}: {len(lesson.y)} corrections (each seen "
                   f"{repeats}x per epoch) + {replay_rows:,} replay rows of {corpus}; "
                   f"{rows_taught} embedding rows of the corrections' less common words and "
                   "n-grams change, the rest of the model stays as it was", topic="data"))
    if lesson.unknown_words:
        emit(Note(text=f"{lesson.unknown_words} of the corrections' {lesson.words} words are "
                       "not in the vocabulary: the model cannot learn those words, only "
                       "their context", topic="data"))
    for problem in lesson.problems:
        emit(Note(text=problem, topic="data"))


def _taught_card(card: dict[str, Any], training_run: dict[str, Any], taught: dict[str, Any],
                 history: dict[str, list[float]], test_metrics: dict[str, float], note: str
                 ) -> dict[str, Any]:
    """The new version's card: the parent's, less what described its files, with this
    run's training, history, test metrics, ``teach`` section and one more note."""
    new_card = {key: value for key, value in card.items() if key not in _PARENT_ONLY}
    new_card["metrics"] = {**(card.get("metrics") or {}), "test": test_metrics} \
        if test_metrics else {}
    new_card["history"] = {key: [float(v) for v in values] for key, values in history.items()}
    new_card["training"] = {**(card.get("training") or {}), **training_run}
    new_card["teach"] = taught
    new_card["notes"] = [*(card.get("notes") or []), note]
    return new_card


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
