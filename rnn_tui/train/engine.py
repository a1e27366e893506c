"""The training engine: config -> data -> model -> fit (resumable) -> test -> registry.

It talks to the outside only through ``on_event`` (see ``rnn_tui.train.events``):

>>> events = []
>>> result = train(TrainConfig(dataset="series", arch="simplernn:10", epochs=2,
...                            validation="none", name="demo"), events.append)  # doctest: +SKIP
>>> [type(e).__name__ for e in events][:2]                                        # doctest: +SKIP
['RunStarted', 'EpochStarted']

Reproducibility: ``keras.utils.set_random_seed(seed)`` and
``tf.config.experimental.enable_op_determinism()`` before the model is built, and batches in
an order that depends only on (seed, epoch) (``rnn_tui.train.pipeline``). Two runs with one
seed give identical weights; a run killed after epoch k and resumed continues with epoch k+1
from the backup and matches the uninterrupted run (tests/test_train_resume.py).

Interruptions: Ctrl-C (KeyboardInterrupt), SIGTERM (the CLI turns it into one) or
``should_stop()`` returning True end the run with a ``RunCancelled`` event and a
``RunCancelledError``; nothing is published and the run folder is kept, so the same command
continues it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnn_tui import paths
from rnn_tui.data.corpus import Corpus
from rnn_tui.errors import RnnTuiError, UserError
from rnn_tui.nets import (
    ModelInput,
    build_model,
    generic_kernel_reasons,
    load_embedding_matrix,
    mask_zero_for,
    normalize_spec,
    resolve_arch,
    resolve_head,
    vector_dim,
)
from rnn_tui.text import Vocabulary
from rnn_tui.train.callbacks import (
    TrainingCancelled,
    early_stopping_resume_state,
    make_callbacks,
)
from rnn_tui.train.card import build_card
from rnn_tui.train.config import TrainConfig
from rnn_tui.train.events import (
    Event,
    Note,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
)
from rnn_tui.train.pipeline import eval_dataset, train_dataset
from rnn_tui.train.prepare import PreparedData, prepare_data
from rnn_tui.train.runs import RunFolder


class RunCancelledError(RnnTuiError):
    """Training was cancelled; the run folder is kept for resuming. Exit code 130."""

    exit_code = 130


@dataclass
class RunResult:
    """What ``train`` returns (the same facts as the RunFinished event, plus objects)."""

    name: str
    model_ref: str | None
    test_metrics: dict[str, Any]
    history: dict[str, list[float]]
    card: dict[str, Any]
    model: Any = None
    data: PreparedData | None = None
    aliases: list[str] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    """Seeded, deterministic TensorFlow (same seed + same data -> same weights)."""
    from rnn_tui.backend import keras, tensorflow

    keras().utils.set_random_seed(seed)
    tensorflow().config.experimental.enable_op_determinism()


def device_name() -> str:
    """"GPU (name)" when TensorFlow sees a GPU, else "CPU"."""
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    with contextlib.suppress(Exception):
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name")
        if name:
            return f"GPU ({name})"
    return "GPU"


def make_optimizer(config: TrainConfig) -> Any:
    from rnn_tui.backend import keras

    optimizers = keras().optimizers
    options: dict[str, Any] = {}
    if config.learning_rate is not None:
        options["learning_rate"] = config.learning_rate
    if config.clipnorm is not None:
        options["clipnorm"] = config.clipnorm
    cls = {"adam": optimizers.Adam, "rmsprop": optimizers.RMSprop,
           "sgd": optimizers.SGD}[config.optimizer]
    return cls(**options)


def resolve_spec(config: TrainConfig, model_input: ModelInput) -> dict[str, Any]:
    """The normalised architecture spec of a config for this data."""
    if config.arch_spec is not None:
        return normalize_spec(config.arch_spec)
    options = dict(config.arch_options)
    vectors = options.get("vectors")
    if vectors and options.get("embedding_dim") is None:
        options["embedding_dim"] = vector_dim(vectors)
    return resolve_arch(config.arch, options, input_kind=model_input.kind)


def compile_settings(config: TrainConfig, spec: dict[str, Any], data: PreparedData
                     ) -> tuple[str, list[str]]:
    """(loss, metrics): from the config, else from the task and the head."""
    head = resolve_head(spec["head"], data.task, data.num_classes)
    loss = config.loss or head.loss
    metrics = config.metrics or (["mae"] if data.task == "regression" else ["accuracy"])
    return loss, list(metrics)


def build_compiled_model(config: TrainConfig, data: PreparedData, spec: dict[str, Any],
                         on_event: Callable[[Event], None]) -> tuple[Any, dict | None]:
    """Build (with pretrained vectors if the spec asks) and compile the model."""
    embedding_weights = None
    vectors_card = None
    first = spec["layers"][0]
    if first["type"] == "embedding" and first["vectors"]:
        vocabulary = data.vocabulary
        input_dim = data.model_input.vocab_size if first["input_dim"] == "auto" \
            else first["input_dim"]
        vectors = load_embedding_matrix(
            first["vectors"], vocabulary.word_index, input_dim, format=first["vectors_format"],
            dim=first["dim"], oov_token=vocabulary.oov_token, seed=config.seed)
        embedding_weights = vectors.matrix
        vectors_card = {**vectors.to_card(), "trainable": first["trainable"]}
        on_event(Note(text=vectors.describe() + ("" if first["trainable"] else " (frozen)"),
                      topic="vectors"))
    model = build_model(spec, data.model_input, task=data.task, num_classes=data.num_classes,
                        padding=config.padding, embedding_weights=embedding_weights,
                        name=(config.default_name.replace("-", "_").replace(".", "_")))
    loss, metrics = compile_settings(config, spec, data)
    model.compile(optimizer=make_optimizer(config), loss=loss, metrics=metrics)
    return model, vectors_card


def _save_weights_atomically(model: Any, path: Path) -> None:
    temp = path.with_name("saving." + path.name)
    model.save_weights(str(temp), overwrite=True)
    temp.replace(path)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def train(
    config: TrainConfig,
    on_event: Callable[[Event], None] | None = None,
    *,
    restart: bool = False,
    should_stop: Callable[[], bool] | None = None,
    corpus: Corpus | None = None,
    publish: bool = True,
    registries: Any = None,
    runs_root: Path | None = None,
) -> RunResult:
    """Train, evaluate and publish one run (see the module docstring).

    Args:
        config: the run's settings; its ``default_name`` names the run and the model.
        on_event: receives every event; None drops them.
        restart: discard an unfinished run of the same name with another config.
        should_stop: polled every batch; True cancels (the TUI's stop button).
        corpus: use this corpus instead of loading ``config.dataset`` (tests).
        publish: publish to the registry (False: train and evaluate only).
        registries: the registries to publish to (default: ``open_registries()``).
        runs_root: where run folders live (default: ``paths.runs_root()``).

    Raises:
        RunCancelledError: cancelled; the run folder is kept for resuming.
        UserError / DataError: bad settings or data (before any training).
    """
    emit = on_event or (lambda event: None)
    session_start = time.time()
    started = _now()
    name = config.default_name
    config = config if config.name == name else config.replace(name=name)
    run = RunFolder((runs_root or paths.runs_root()) / name)
    run.lock()
    try:
        return _train_locked(config, run, emit, restart=restart, should_stop=should_stop,
                             corpus=corpus, publish=publish, registries=registries,
                             session_start=session_start, started=started)
    finally:
        run.unlock()


def _train_locked(config: TrainConfig, run: RunFolder, emit: Callable[[Event], None], *,
                  restart: bool, should_stop, corpus, publish: bool, registries,
                  session_start: float, started: str) -> RunResult:
    epochs_done = run.check_or_start(config, restart)
    try:
        return _run(config, run, emit, epochs_done=epochs_done, should_stop=should_stop,
                    corpus=corpus, publish=publish, registries=registries,
                    session_start=session_start, started=started)
    except (KeyboardInterrupt, TrainingCancelled):
        done = run.epochs_done
        message = (f"training cancelled after epoch {done} of {config.epochs}; the same "
                   f"command continues it (run folder {run.path})" if done else
                   "training cancelled before the first epoch finished")
        emit(RunCancelled(epoch=done, run_dir=str(run.path), message=message))
        raise RunCancelledError(message) from None
    except RnnTuiError as error:
        emit(RunFailed(message=str(error), epoch=run.epochs_done or None))
        raise
    except Exception as error:
        emit(RunFailed(message=f"{type(error).__name__}: {error}", epoch=run.epochs_done or None))
        raise


def _run(config: TrainConfig, run: RunFolder, emit: Callable[[Event], None], *,
         epochs_done: int, should_stop, corpus, publish: bool, registries,
         session_start: float, started: str) -> RunResult:
    vocabulary = None
    if (epochs_done > 0 or run.fit_finished) and run.vocabulary_path.exists():
        vocabulary = Vocabulary.load(run.vocabulary_path)
    data = prepare_data(config, corpus=corpus, vocabulary=vocabulary)
    if data.vocabulary is not None and vocabulary is None:
        data.vocabulary.save(run.vocabulary_path)
    notes = list(data.notes)
    # Notes found while preparing are sent right after RunStarted, which opens the stream.
    pending: list[Event] = [Note(text=text, topic="data") for text in data.notes]
    if not data.has_validation and config.early_stopping:
        raise UserError("early stopping needs validation data (--validation 0.2, corpus or "
                        "test)")

    seed_everything(config.seed)
    spec = resolve_spec(config, data.model_input)
    model, vectors_card = build_compiled_model(config, data, spec, pending.append)
    if vectors_card:
        notes.append(f"pretrained vectors cover {100 * vectors_card['coverage']:.1f}% of the "
                     "vocabulary")
    device = device_name()
    if device != "CPU":
        for reason in generic_kernel_reasons(spec, config.padding):
            pending.append(Note(text=reason, topic="kernel"))
            notes.append(reason)

    train_data, steps = train_dataset(data.x_train, data.y_train, batch_size=config.batch_size,
                                      seed=config.seed, first_epoch=epochs_done,
                                      epochs=config.epochs)
    validation_data = eval_dataset(data.x_validation, data.y_validation,
                                   batch_size=config.batch_size) if data.has_validation else None

    early_stopping = None
    if config.early_stopping:
        resume = None
        if epochs_done:
            resume = early_stopping_resume_state(run.history.get("val_loss", []),
                                                 config.early_stopping)
            if resume is not None and config.restore_best_weights and run.best_path.exists():
                # EarlyStopping keeps the best weights in memory; after a restart they come
                # from the best checkpoint (the backup then loads the latest weights).
                model.load_weights(str(run.best_path))
                resume["best_weights"] = model.get_weights()
        early_stopping = {"patience": config.early_stopping,
                          "restore_best_weights": config.restore_best_weights,
                          "resume": resume}

    from rnn_tui.backend import keras

    callbacks = make_callbacks(
        keras=keras(), on_event=emit, run_state=run, epochs=config.epochs,
        steps_per_epoch=steps, train_rows=len(data.x_train), backup_dir=run.backup_dir,
        best_path=run.best_path if data.has_validation else None,
        early_stopping=early_stopping, should_stop=should_stop)
    run.begin_session(started)
    emit(RunStarted(
        name=config.default_name, config=config.to_dict(), epochs=config.epochs,
        steps_per_epoch=steps, params=_params(model), resumed_from=epochs_done,
        run_dir=str(run.path), train_size=len(data.x_train),
        validation_size=len(data.x_validation) if data.has_validation else 0,
        test_size=len(data.x_test), device=device))
    for event in pending:
        emit(event)
    if epochs_done:
        emit(Note(text=f"resuming from epoch {epochs_done}: epochs 1-{epochs_done} of "
                       f"{config.epochs} are done, training continues with epoch "
                       f"{epochs_done + 1}", topic="resume"))

    stopped_early = bool(run.state.get("stopped_early", False))
    best_epoch = run.state.get("best_epoch")
    if run.fit_finished:
        model.load_weights(str(run.final_path))
        emit(Note(text="training had finished before the interruption; evaluating and "
                       "publishing", topic="resume"))
    else:
        if epochs_done < config.epochs:
            model.fit(train_data, epochs=config.epochs, steps_per_epoch=steps,
                      initial_epoch=epochs_done, validation_data=validation_data,
                      shuffle=False,  # the pipeline shuffles, by (seed, epoch)
                      callbacks=callbacks, verbose=0)
        else:  # every epoch is done but fit() did not get to finish: restore the backup
            backup = callbacks[-1]
            backup.set_model(model)
            backup.on_train_begin()
            resumed_best = (early_stopping or {}).get("resume") or {}
            if resumed_best.get("best_weights") is not None:
                model.set_weights(resumed_best["best_weights"])
        stopped_early, best_epoch = _outcome(callbacks, run, config)
        if stopped_early:
            text = f"early stopping after epoch {run.epochs_done}"
            if config.restore_best_weights and best_epoch:
                text += f"; weights restored from epoch {best_epoch}"
            emit(Note(text=text, topic="early-stopping"))
        _save_weights_atomically(model, run.final_path)
        run.mark_fit_finished(stopped_early, best_epoch)

    evaluation_start = time.time()
    test_metrics = model.evaluate(eval_dataset(data.x_test, data.y_test,
                                               batch_size=config.batch_size),
                                  return_dict=True, verbose=0)
    test_metrics = {key: float(value) for key, value in test_metrics.items()}
    evaluation_s = time.time() - evaluation_start
    loss, metric_names = compile_settings(config, spec, data)
    # Seconds spent by earlier sessions of a resumed run (their epochs come first).
    previous_seconds = float(sum(run.state.get("epoch_seconds", [])[:epochs_done]))
    card = build_card(
        config=config, data=data, spec=spec, model=model, history=run.history,
        test_metrics=test_metrics, epoch_seconds=run.state.get("epoch_seconds", []),
        best_epoch=best_epoch, stopped_early=stopped_early, started=run.state.get("started")
        or started, finished=_now(), duration_s=time.time() - session_start + previous_seconds,
        evaluation_s=evaluation_s, sessions=int(run.state.get("sessions", 1)), device=device,
        mask_zero=mask_zero_for(spec, config.padding), loss=loss, metric_names=metric_names,
        vectors=vectors_card, notes=notes)

    model_ref = None
    aliases: list[str] = []
    if publish:
        from rnn_tui.train.publish import publish_model

        version, aliases = publish_model(config.default_name, model, data.vocabulary, card,
                                         registries=registries, on_event=emit)
        model_ref = version.ref
        card = version.card
    run.discard()  # finished: a re-run is a new training, not a resume
    emit(RunFinished(name=config.default_name, model_ref=model_ref, test_metrics=test_metrics,
                     duration_s=round(time.time() - session_start + previous_seconds, 3),
                     epochs_run=run_epochs(card), best_epoch=best_epoch,
                     stopped_early=stopped_early, aliases=aliases))
    return RunResult(name=config.default_name, model_ref=model_ref, test_metrics=test_metrics,
                     history=card.get("history", {}), card=card, model=model, data=data,
                     aliases=aliases)


def run_epochs(card: dict[str, Any]) -> int:
    return int((card.get("training") or {}).get("epochs_run", 0))


def _params(model: Any) -> dict[str, int]:
    from rnn_tui.train.card import param_counts

    return param_counts(model)


def _outcome(callbacks: list[Any], run: RunFolder, config: TrainConfig
             ) -> tuple[bool, int | None]:
    """(stopped early?, best epoch counted from 1) after fit()."""
    for callback in callbacks:
        if hasattr(callback, "stopped_epoch") and hasattr(callback, "best_epoch"):
            stopped = callback.stopped_epoch > 0 or run.epochs_done < config.epochs
            best = callback.best_epoch + 1 if callback.best is not None else None
            return stopped, best
    values = run.history.get("val_loss") or []
    if not values:
        return False, None
    return False, int(min(range(len(values)), key=values.__getitem__)) + 1
