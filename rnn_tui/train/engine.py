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

Several devices or machines (``placement``, see ``rnn_tui.train.distribute``): the model is
built under the strategy's scope, the batches come from ``distributed_train_dataset`` and
the test metrics from a local (undistributed) copy of the trained model. In a multi-worker
run only the chief (worker 0) writes the run folder, shows progress and publishes; the other
workers start from a private copy of the chief's run folder (so the run folder must be on a
filesystem every worker sees, as Keras' BackupAndRestore requires) and write their own
checkpoints to a temporary folder, so that every worker runs the same steps in the same
order. A worker that dies makes the others fail within seconds (``WorkerLostError``);
starting every worker again with the same command resumes from the last finished epoch.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnn_tui import paths
from rnn_tui.data.corpus import Corpus
from rnn_tui.errors import RnnTuiError, UserError
from rnn_tui.nets import (
    NAMED_ARCHS,
    ModelInput,
    build_model,
    dynamic_padding_exact,
    generic_kernel_reasons,
    load_embedding_matrix,
    normalize_spec,
    resolve_arch,
    resolve_head,
    vector_dim,
)
from rnn_tui.text import Vocabulary
from rnn_tui.text.features import FeatureStream, TextFeatures, stream_file
from rnn_tui.train.callbacks import (
    EngineCallbacks,
    TrainingCancelled,
    early_stopping_resume_state,
    ensure_room,
    weights_file_bytes,
)
from rnn_tui.train.card_builder import DEFAULT_LEARNING_RATES, build_card
from rnn_tui.train.config import LR_FINAL_FRACTION, TrainConfig
from rnn_tui.train.distribute import (
    Distribution,
    Placement,
    WorkerLostError,
    global_dtype_policy,
    is_worker_lost,
    mixed_precision_choice,
    setup_distribution,
)
from rnn_tui.train.events import (
    BatchEnded,
    CheckpointSaved,
    EpochEnded,
    EpochStarted,
    Event,
    Note,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
)
from rnn_tui.train.pipeline import (
    distributed_steps,
    distributed_train_dataset,
    eval_dataset,
    model_feed,
    predict_in_order,
    steps_for,
    train_dataset,
)
from rnn_tui.train.plan import Evaluation, FitOutcome, RunFacts, RunPlan, Training
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


@dataclass
class RunExtras:
    """What a caller adds to a run without the engine knowing why.

    ``callbacks``: called with the ``keras`` module once the model is built; the Keras
    callbacks it returns run after the engine's own (``--tensorboard``). A factory, so
    nothing of Keras exists before the placement is set up. ``card``: top-level sections
    added to the card before publishing (``tune`` records its study and trial there).
    """

    callbacks: Callable[[Any], list[Any]] | None = None
    card: dict[str, Any] = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    """Seeded, deterministic TensorFlow (same seed + same data -> same weights)."""
    from rnn_tui.backend import keras, tensorflow

    keras().utils.set_random_seed(seed)
    tensorflow().config.experimental.enable_op_determinism()


def learning_rate_schedule(config: TrainConfig, rate: float, total_steps: int | None) -> Any:
    """The rate, or a Keras schedule over ``total_steps`` optimizer steps (serialisable: a
    resumed run restores the optimizer's step count with its state and goes on from there).

    linear: ``PolynomialDecay(rate, total_steps, end_learning_rate=0.05 * rate, power=1)``;
    cosine: ``CosineDecay(rate, total_steps, alpha=0.05)``; no warm-up (as the recipe study).
    """
    if config.lr_schedule == "constant" or not total_steps:
        return rate
    from rnn_tui.backend import keras

    schedules = keras().optimizers.schedules
    if config.lr_schedule == "linear":
        return schedules.PolynomialDecay(rate, total_steps,
                                         end_learning_rate=rate * LR_FINAL_FRACTION, power=1.0)
    return schedules.CosineDecay(rate, total_steps, alpha=LR_FINAL_FRACTION)


def make_optimizer(config: TrainConfig, learning_rate: float | None = None,
                   total_steps: int | None = None) -> Any:
    """The config's optimizer; ``learning_rate`` (a scaled rate) overrides the config's;
    ``total_steps`` (epochs x steps per epoch) is what a decaying schedule spans."""
    from rnn_tui.backend import keras

    optimizers = keras().optimizers
    options: dict[str, Any] = {}
    rate = learning_rate if learning_rate is not None else config.learning_rate
    if config.lr_schedule != "constant":
        rate = rate if rate is not None else DEFAULT_LEARNING_RATES[config.optimizer]
        options["learning_rate"] = learning_rate_schedule(config, rate, total_steps)
    elif rate is not None:
        options["learning_rate"] = rate
    if config.clipnorm is not None:
        options["clipnorm"] = config.clipnorm
    if config.ema is not None:
        options["use_ema"] = True
        options["ema_momentum"] = float(config.ema)
    cls = {"adam": optimizers.Adam, "rmsprop": optimizers.RMSprop,
           "sgd": optimizers.SGD}[config.optimizer]
    return cls(**options)


def resolve_spec(config: TrainConfig, model_input: ModelInput) -> dict[str, Any]:
    """The normalised architecture spec of a config for this data."""
    if config.arch_spec is not None:
        return normalize_spec(config.arch_spec)
    named = isinstance(config.arch, str) and config.arch in NAMED_ARCHS
    options = config.arch_knobs() if named else dict(config.arch_options)
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
                         on_event: Callable[[Event], None], *,
                         learning_rate: float | None = None,
                         dtype_policy: str | None = None, total_steps: int | None = None,
                         model_input: ModelInput | None = None) -> tuple[Any, dict | None]:
    """Build (with pretrained vectors if the spec asks) and compile the model.

    ``dtype_policy`` ("mixed_float16") applies to the layers built here only; the head
    stays float32 (``rnn_tui.nets.build``). Call it inside ``Distribution.scope()``.
    ``total_steps`` spans a decaying learning-rate schedule; ``model_input`` overrides the
    data's (a length of None: batches padded to their own longest text).
    """
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
    with global_dtype_policy(dtype_policy):
        model = build_model(spec, model_input or data.model_input, task=data.task,
                            num_classes=data.num_classes, padding=config.padding,
                            embedding_weights=embedding_weights,
                            name=(config.default_name.replace("-", "_").replace(".", "_")),
                            vocabulary=data.vocabulary)
        loss, metrics = compile_settings(config, spec, data)
        # Under mixed_float16 Keras wraps the optimizer in a LossScaleOptimizer here.
        model.compile(optimizer=make_optimizer(config, learning_rate, total_steps), loss=loss,
                      metrics=metrics)
    return model, vectors_card


def local_copy(model: Any, loss: str, metrics: list[str]) -> Any:
    """The trained model outside any strategy, compiled for evaluation: test metrics of a
    distributed run are then computed exactly as on one device."""
    from rnn_tui.train.publish import inference_copy

    copy = inference_copy(model)
    copy.compile(loss=loss, metrics=metrics)
    return copy


def _without_progress(emit: Callable[[Event], None]) -> Callable[[Event], None]:
    """A non-chief worker's events: no epochs, batches or checkpoints (the chief shows
    them), but the start, notes and the outcome."""
    progress = (EpochStarted, BatchEnded, EpochEnded, CheckpointSaved)

    def forward(event: Event) -> None:
        if not isinstance(event, progress):
            emit(event)

    return forward


def _save_weights_atomically(model: Any, path: Path) -> None:
    """Write the final weights beside ``path``, then rename: never half a file.

    Room is checked first (as for every checkpoint: h5py crashes the process on a full
    disk), and a failed write leaves no temporary file behind.
    """
    ensure_room(path.parent, weights_file_bytes(model))
    temp = path.with_name("saving." + path.name)
    try:
        model.save_weights(str(temp), overwrite=True)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
    placement: Placement | None = None,
    extras: RunExtras | None = None,
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
        placement: devices and strategy (``rnn_tui.train.distribute.Placement``; default:
            auto). Chosen before TensorFlow makes any tensor.
        extras: more Keras callbacks and card sections (``RunExtras``).

    Raises:
        RunCancelledError: cancelled; the run folder is kept for resuming.
        WorkerLostError: another worker of a multi-worker run stopped (resumable).
        UserError / DataError: bad settings or data (before any training).
    """
    emit = on_event or (lambda event: None)
    session_start = time.time()
    started = _now()
    name = config.default_name
    config = config if config.name == name else config.replace(name=name)
    distribution = setup_distribution(placement)
    if not distribution.is_chief:
        emit = _without_progress(emit)
    run = RunFolder((runs_root or paths.runs_root()) / name)
    if distribution.is_chief:  # the other workers never write the shared run folder
        run.lock()
    try:
        return _train_locked(config, run, emit, distribution=distribution, restart=restart,
                             should_stop=should_stop, corpus=corpus, publish=publish,
                             registries=registries, session_start=session_start,
                             started=started, extras=extras)
    finally:
        if distribution.is_chief:
            run.unlock()


def _open_run(config: TrainConfig, run: RunFolder, distribution: Distribution, restart: bool
              ) -> tuple[RunFolder, int, Path | None]:
    """(the run folder this process writes, epochs done, its scratch folder or None).

    One process: the run folder itself. Multi-worker: the chief checks the shared folder;
    then every worker learns the chief's verdict and epoch count (an all-gather, which is
    also the first meeting of the workers); the others copy the chief's folder into a
    private scratch folder and check that they see the same epoch.
    """
    global_batch = distribution.global_batch_size(config.batch_size)
    if distribution.kind != "multiworker":
        done = run.check_or_start(config, restart)
        run.check_global_batch(global_batch)
        return run, done, None
    index = distribution.worker_index
    fingerprint = int(config.fingerprint(), 16)
    high, low = fingerprint >> 32, fingerprint & 0xFFFFFFFF
    refusal: UserError | None = None
    done = 0
    if distribution.is_chief:
        try:
            done = run.check_or_start(config, restart)
            run.check_global_batch(global_batch)
        except UserError as error:  # still meet the others, so they stop too
            refusal = error
    rows = distribution.agree([index, int(refusal is not None), done, high, low])
    if refusal is not None:
        raise refusal
    for row in rows:
        if (row[3], row[4]) != (high, low):
            raise UserError(f"worker {row[0]} was started with another training "
                            f"configuration than worker {index}: every worker needs the same "
                            "flags (only --worker-index differs)")
    chief = rows[0]
    if chief[1]:
        raise UserError("the chief (worker 0) refused to start this run; its output says why")
    done = chief[2]
    scratch = None
    mine = run
    if not distribution.is_chief:
        scratch = Path(tempfile.mkdtemp(prefix=f"rnn-tui-worker{index}-"))
        local = scratch / run.path.name
        if done and run.path.is_dir():
            shutil.copytree(run.path, local, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".lock", "saving*"))
        mine = RunFolder(local)
        seen = mine.check_or_start(config, restart=False)
    else:
        seen = done
    rows = distribution.agree([index, seen])
    for row in rows:
        if row[1] != done:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise UserError(
                f"worker {row[0]} sees {row[1]} finished epoch(s) of run {run.path.name!r} but "
                f"the chief has {done}: the run folder ({run.path.parent}) must be on a "
                "filesystem every worker shares (set RNN_TUI_HOME to one), or start afresh "
                "with --restart")
    return mine, done, scratch


def _train_locked(config: TrainConfig, run: RunFolder, emit: Callable[[Event], None], *,
                  distribution: Distribution, restart: bool, should_stop, corpus,
                  publish: bool, registries, session_start: float, started: str,
                  extras: RunExtras | None = None) -> RunResult:
    run, epochs_done, scratch = _open_run(config, run, distribution, restart)
    try:
        return _run(config, run, emit, distribution=distribution, epochs_done=epochs_done,
                    should_stop=should_stop, corpus=corpus, publish=publish,
                    registries=registries, session_start=session_start, started=started,
                    extras=extras)
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
        if distribution.kind == "multiworker" and is_worker_lost(error):
            done = run.epochs_done
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            message = (f"another worker stopped ({type(error).__name__}: {first_line[:200]}); "
                       "start every worker again with the same command: training resumes "
                       f"from epoch {done + 1}")
            emit(RunFailed(message=message, epoch=done or None))
            raise WorkerLostError(message) from None
        emit(RunFailed(message=f"{type(error).__name__}: {error}", epoch=run.epochs_done or None))
        raise
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(config: TrainConfig, run: RunFolder, emit: Callable[[Event], None], *,
         distribution: Distribution, epochs_done: int, should_stop, corpus, publish: bool,
         registries, session_start: float, started: str,
         extras: RunExtras | None = None) -> RunResult:
    """plan -> build -> fit -> finish (evaluate, card, publish); ``extras``: more callbacks
    and card sections from the caller (tune, --tensorboard)."""
    extras = extras or RunExtras()
    plan = _plan(config, run, distribution, epochs_done, corpus)
    training = _build(plan, distribution, epochs_done)
    callbacks, early_stopping = _callbacks(plan, training, run, emit, epochs_done, should_stop)
    run.begin_session(started, global_batch_size=plan.global_batch)
    _announce(plan, training, run, emit, epochs_done)
    outcome = _fit(plan, training, callbacks, early_stopping, run, emit, epochs_done,
                   extras)
    if plan.spec.get("linear") and distribution.is_chief:
        _fit_linear_channel(training.model, plan.data, plan.spec["linear"], config.seed, emit)
    previous_seconds = float(sum(run.state.get("epoch_seconds", [])[:epochs_done]))
    if not distribution.is_chief:  # the chief evaluates and publishes
        return _finish_worker(plan, training, outcome, run, emit, distribution,
                              session_start - previous_seconds)
    return _finish(plan, training, outcome, run, emit, distribution, publish=publish,
                   registries=registries, started=started,
                   since=session_start - previous_seconds, extra_card=extras.card)


def _plan(config: TrainConfig, run: RunFolder, distribution: Distribution, epochs_done: int,
          corpus) -> RunPlan:
    """Prepare the data and decide the spec, buckets, precision, placement and steps."""
    features = None
    if (epochs_done > 0 or run.fit_finished) and run.vocabulary_path.exists():
        features = _load_run_features(run, config)
    data = prepare_data(config, corpus=corpus, vocabulary=features)
    if data.features is not None and features is None:
        _save_run_features(run, data.features)
    if not data.has_validation and config.early_stopping:
        raise UserError("early stopping needs validation data (--validation 0.2, corpus or "
                        "test)")
    seed_everything(config.seed)
    spec = resolve_spec(config, data.model_input)
    bucketing = bucketing_choice(config, spec, data)
    policy, precision_note = mixed_precision_choice(config.mixed_precision)
    base_rate = config.learning_rate or DEFAULT_LEARNING_RATES[config.optimizer]
    placement = distribution.describe(config.batch_size, base_rate, config.scale_lr)
    global_batch = distribution.global_batch_size(config.batch_size)
    plan = RunPlan(
        config=config, data=data, spec=spec, bucketing=bucketing, policy=policy,
        placement=placement, global_batch=global_batch,
        scaled_rate=placement["learning_rate"] if placement["learning_rate"] != base_rate
        else None,
        steps=distributed_steps(len(data.x_train), global_batch) if distribution.distributed
        else steps_for(len(data.x_train), config.batch_size),
        notes=list(data.notes),
        # Notes found while preparing are sent right after RunStarted, which opens the stream.
        pending=[Note(text=text, topic="data") for text in data.notes])
    for text in distribution.notes:
        plan.note(text, "distribution")
    if bucketing:
        plan.note("length buckets: batches of texts of similar length, each padded to its "
                  "longest text only (post padding with a mask: the results are those of "
                  "padding to maxlen)", "data")
    if precision_note:
        plan.note(precision_note, "precision")
    plan.schedule = schedule_card(config, placement["learning_rate"], plan.steps)
    return plan


def _build(plan: RunPlan, distribution: Distribution, epochs_done: int) -> Training:
    """The compiled model (in the distribution's scope) and its datasets."""
    config, data, names = plan.config, plan.data, plan.names
    with distribution.scope():
        model, vectors_card = build_compiled_model(
            config, data, plan.spec, plan.pending.append, learning_rate=plan.scaled_rate,
            dtype_policy=plan.policy, total_steps=plan.steps * config.epochs,
            model_input=dataclasses.replace(data.model_input, length=None) if plan.bucketing
            else None)
    distribution.prepare_model(model, (model_feed(data.x_train[:1], names), data.y_train[:1]))
    if vectors_card:
        plan.notes.append(f"pretrained vectors cover {100 * vectors_card['coverage']:.1f}% of "
                          "the vocabulary")
    device = distribution.device
    if "GPU" in device:
        for reason in generic_kernel_reasons(plan.spec, config.padding):
            plan.note(reason, "kernel")
    if distribution.distributed:
        train_data, steps = distributed_train_dataset(
            data.x_train, data.y_train, strategy=distribution.strategy,
            per_replica_batch=config.batch_size, seed=config.seed, first_epoch=epochs_done,
            epochs=config.epochs, lengths=plan.lengths_of(data.x_train), stream_names=names)
        rows_per_epoch = steps * plan.global_batch
    else:
        train_data, steps = train_dataset(data.x_train, data.y_train,
                                          batch_size=config.batch_size, seed=config.seed,
                                          first_epoch=epochs_done, epochs=config.epochs,
                                          lengths=plan.lengths_of(data.x_train),
                                          stream_names=names)
        rows_per_epoch = len(data.x_train)
    validation_data = eval_dataset(data.x_validation, data.y_validation,
                                   batch_size=plan.global_batch,
                                   shard=distribution.distributed,
                                   lengths=plan.lengths_of(data.x_validation),
                                   stream_names=names) \
        if data.has_validation else None
    return Training(model, vectors_card, device, train_data, validation_data, steps,
                    rows_per_epoch)


def _callbacks(plan: RunPlan, training: Training, run: RunFolder,
               emit: Callable[[Event], None], epochs_done: int, should_stop
               ) -> tuple[EngineCallbacks, dict[str, Any] | None]:
    """The engine's callbacks, with early stopping resumed from an interrupted run."""
    config = plan.config
    early_stopping = None
    if config.early_stopping:
        resume = None
        if epochs_done:
            resume = early_stopping_resume_state(run.history.get("val_loss", []),
                                                 config.early_stopping)
            if resume is not None and config.restore_best_weights and run.best_path.exists():
                # EarlyStopping keeps the best weights in memory; after a restart they come
                # from the best checkpoint (the backup then loads the latest weights).
                training.model.load_weights(str(run.best_path))
                resume["best_weights"] = training.model.get_weights()
        early_stopping = {"patience": config.early_stopping,
                          "restore_best_weights": config.restore_best_weights,
                          "resume": resume}
    from rnn_tui.backend import keras

    callbacks = make_callbacks(
        keras=keras(), on_event=emit, run_state=run, epochs=config.epochs,
        steps_per_epoch=training.steps, train_rows=training.rows_per_epoch,
        backup_dir=run.backup_dir, best_path=run.best_path if plan.data.has_validation
        else None, early_stopping=early_stopping, should_stop=should_stop)
    return callbacks, early_stopping


def _announce(plan: RunPlan, training: Training, run: RunFolder,
              emit: Callable[[Event], None], epochs_done: int) -> None:
    """RunStarted, then the notes gathered so far, then where a resumed run picks up."""
    config, data = plan.config, plan.data
    emit(RunStarted(
        name=config.default_name, config=config.to_dict(), epochs=config.epochs,
        steps_per_epoch=training.steps, params=_params(training.model),
        resumed_from=epochs_done, run_dir=str(run.path), train_size=len(data.x_train),
        validation_size=len(data.x_validation) if data.has_validation else 0,
        test_size=len(data.x_test), device=training.device, distribution=plan.placement))
    for event in plan.pending:
        emit(event)
    if epochs_done:
        emit(Note(text=f"resuming from epoch {epochs_done}: epochs 1-{epochs_done} of "
                       f"{config.epochs} are done, training continues with epoch "
                       f"{epochs_done + 1}", topic="resume"))


def _fit(plan: RunPlan, training: Training, callbacks: EngineCallbacks,
         early_stopping: dict[str, Any] | None, run: RunFolder,
         emit: Callable[[Event], None], epochs_done: int, extras: RunExtras) -> FitOutcome:
    """Fit the remaining epochs (or restore a finished fit), and save the final weights."""
    from rnn_tui.backend import keras

    config, model = plan.config, training.model
    if run.fit_finished:
        model.load_weights(str(run.final_path))
        emit(Note(text="training had finished before the interruption; evaluating and "
                       "publishing", topic="resume"))
        return FitOutcome(bool(run.state.get("stopped_early", False)),
                          run.state.get("best_epoch"))
    if epochs_done < config.epochs:
        model.fit(training.train_data, epochs=config.epochs, steps_per_epoch=training.steps,
                  initial_epoch=epochs_done, validation_data=training.validation_data,
                  shuffle=False,  # the pipeline shuffles, by (seed, epoch)
                  callbacks=callbacks.as_list() + (extras.callbacks(keras()) if extras.callbacks
                                                   else []),
                  verbose=0)
    else:  # every epoch is done but fit() did not get to finish: restore the backup
        backup = callbacks.backup
        backup.set_model(model)
        backup.on_train_begin()
        resumed_best = (early_stopping or {}).get("resume") or {}
        if resumed_best.get("best_weights") is not None:
            model.set_weights(resumed_best["best_weights"])
        if config.ema is not None:  # what fit() does last: the averages become the weights
            model.optimizer.finalize_variable_values(model.trainable_weights)
    stopped_early, best_epoch = _outcome(callbacks.early_stopping, run, config)
    if stopped_early:
        text = f"early stopping after epoch {run.epochs_done}"
        if config.restore_best_weights and best_epoch:
            text += f"; weights restored from epoch {best_epoch}"
        emit(Note(text=text, topic="early-stopping"))
    _save_weights_atomically(model, run.final_path)
    run.mark_fit_finished(stopped_early, best_epoch)
    return FitOutcome(stopped_early, best_epoch)


def _finish_worker(plan: RunPlan, training: Training, outcome: FitOutcome, run: RunFolder,
                   emit: Callable[[Event], None], distribution: Distribution,
                   since: float) -> RunResult:
    """A non-chief worker's end: its scratch run folder goes, the chief publishes."""
    config = plan.config
    epochs_run = len(run.state.get("epoch_seconds", []))
    history = {key: list(series) for key, series in run.history.items()}
    run.discard()  # the scratch copy: the chief keeps the real run folder
    emit(Note(text=f"worker {distribution.worker_index}: training finished; the chief "
                   "(worker 0) evaluates and publishes", topic="distribution"))
    emit(RunFinished(name=config.default_name, model_ref=None, test_metrics={},
                     duration_s=round(time.time() - since, 3), epochs_run=epochs_run,
                     best_epoch=outcome.best_epoch, stopped_early=outcome.stopped_early))
    return RunResult(name=config.default_name, model_ref=None, test_metrics={},
                     history=history, card={}, model=training.model, data=plan.data)


def _finish(plan: RunPlan, training: Training, outcome: FitOutcome, run: RunFolder,
            emit: Callable[[Event], None], distribution: Distribution, *, publish: bool,
            registries, started: str, since: float,
            extra_card: dict[str, Any]) -> RunResult:
    """Evaluate on the test split, write the card, publish; ``since``: when the run began,
    earlier sessions of a resumed run included (their epochs come first)."""
    config, data, spec, model = plan.config, plan.data, plan.spec, training.model
    loss, metric_names = compile_settings(config, spec, data)
    evaluation_start = time.time()
    evaluator = local_copy(model, loss, metric_names) if distribution.distributed else model
    test_metrics = evaluator.evaluate(eval_dataset(data.x_test, data.y_test,
                                                   batch_size=config.batch_size,
                                                   lengths=plan.lengths_of(data.x_test),
                                                   stream_names=plan.names),
                                      return_dict=True, verbose=0)
    test_metrics = {key: float(value) for key, value in test_metrics.items()}
    evaluation = Evaluation(test_metrics, time.time() - evaluation_start, loss, metric_names)
    record = RunFacts(history=run.history, epoch_seconds=run.state.get("epoch_seconds", []),
                       started=run.state.get("started") or started, finished=_now(),
                       duration_s=time.time() - since,
                       sessions=int(run.state.get("sessions", 1)))
    card = build_card(plan, training, outcome, evaluation, record)
    card.update(extra_card)
    model_ref = None
    aliases: list[str] = []
    if publish:
        version, aliases = _publish(plan, model, evaluator, card, registries, emit)
        model_ref = version.ref
        card = version.card
    run.discard()  # finished: a re-run is a new training, not a resume
    emit(RunFinished(name=config.default_name, model_ref=model_ref, test_metrics=test_metrics,
                     duration_s=round(time.time() - since, 3), epochs_run=run_epochs(card),
                     best_epoch=outcome.best_epoch, stopped_early=outcome.stopped_early,
                     aliases=aliases))
    return RunResult(name=config.default_name, model_ref=model_ref, test_metrics=test_metrics,
                     history=card.get("history", {}), card=card, model=model, data=data,
                     aliases=aliases)


def _publish(plan: RunPlan, model: Any, evaluator: Any, card: dict[str, Any], registries,
             emit: Callable[[Event], None]) -> tuple[Any, list[str]]:
    """Publish the model (with float16 weights, checked against Keras on the test split)."""
    from rnn_tui.train.publish import publish_model

    config, data = plan.config, plan.data
    check = None
    if config.float16_weights:
        def check(path):
            return runtime_check(path, evaluator, data, batch_size=config.batch_size,
                                 lengths=plan.lengths_of(data.x_test))

    return publish_model(config.default_name, model, data.vocabulary, card,
                         registries=registries, on_event=emit, features=data.features,
                         float16=config.float16_weights, runtime_check=check)


def make_callbacks(**options: Any) -> EngineCallbacks:
    """The engine's callbacks (``train.keras_callbacks.make_callbacks``; Keras loads here)."""
    from rnn_tui.train.keras_callbacks import make_callbacks as build

    return build(**options)


def _fit_linear_channel(model: Any, data: PreparedData, settings: dict[str, Any], seed: int,
                        emit: Callable[[Event], None]) -> None:
    """Fit the linear n-gram channel on the training rows and switch it on (see
    ``rnn_tui.train.linear``)."""
    from rnn_tui.train import linear

    started = time.time()
    fit = linear.fit_linear(data.x_train, data.y_train, data.features.sizes,
                            c=settings["c"], seed=seed)
    linear.attach(model, fit, data.features.names, settings["weight"])
    emit(Note(text=f"linear n-gram channel: naive-Bayes-weighted logistic regression on "
                   f"{fit.features:,} ids (C={settings['c']:g}), training accuracy "
                   f"{fit.train_accuracy:.4f}, added to the network's logit x "
                   f"{settings['weight']:g} ({time.time() - started:.0f} s)", topic="linear"))


def bucketing_choice(config: TrainConfig, spec: dict[str, Any], data: PreparedData) -> bool:
    """Whether this run uses length buckets with dynamic padding (see ``TrainConfig``)."""
    if config.bucketing is False:
        return False
    if data.model_input.kind != "tokens":
        if config.bucketing:
            raise UserError("length buckets (--bucketing) are for text corpora")
        return False
    exact, reason = dynamic_padding_exact(spec, config.padding)
    if not exact and config.bucketing:
        raise UserError(f"--bucketing would change what this model computes: {reason}; "
                        "leave it out (or --no-bucketing)")
    return exact


def schedule_card(config: TrainConfig, rate: float, steps_per_epoch: int) -> dict[str, Any]:
    """The card's ``training.lr_schedule`` and ``training.ema``."""
    section: dict[str, Any] = {"lr_schedule": {"kind": config.lr_schedule,
                                               "initial": rate}}
    if config.lr_schedule != "constant":
        section["lr_schedule"].update({
            "final": rate * LR_FINAL_FRACTION, "decay_steps": steps_per_epoch * config.epochs,
            "warmup_steps": 0,
            "rule": ("linear (PolynomialDecay, power 1)" if config.lr_schedule == "linear"
                     else "cosine (CosineDecay, alpha 0.05)") + " from the rate to 5% of it"})
    section["ema"] = None if config.ema is None else {
        "momentum": config.ema,
        "weights": "the saved weights are the moving average (swapped in when fitting "
                   "ended); validation metrics in the history are the raw weights'"}
    return section


def runtime_check(path: Path, model: Any, data: PreparedData, *, batch_size: int,
                  lengths: Any = None) -> dict[str, Any]:
    """The NumPy runtime at ``path`` against the Keras model on the test split: accuracy
    (or MAE) of both, how often they agree, and the largest difference in an output."""
    import numpy as np

    from rnn_tui.infer.runtime import Runtime

    names = data.stream_names
    started = time.time()
    expected = predict_in_order(model, data.x_test, batch_size=batch_size, lengths=lengths,
                                stream_names=names)
    runtime = Runtime.load(path)
    got = np.empty_like(expected)
    order = np.argsort(lengths, kind="stable") if lengths is not None \
        else np.arange(len(data.x_test))
    for start in range(0, len(order), 256):
        rows = order[start: start + 256]
        x = data.x_test[rows]
        if lengths is not None:  # as trained: each chunk padded to its longest text
            x = x[:, : max(int(lengths[rows].max()), 1)]
        got[rows] = runtime.run(x, exact_length=lengths is None)
    finite = np.isfinite(expected).all(axis=1) & np.isfinite(got).all(axis=1)
    check: dict[str, Any] = {
        "split": "test", "rows": int(len(expected)), "dtype": runtime.graph.get("dtype"),
        "max_abs_difference": float(np.max(np.abs(expected[finite] - got[finite]),
                                           initial=0.0)),
        "seconds": round(time.time() - started, 1)}
    if data.task == "regression":
        labels = np.asarray(data.y_test, np.float64).reshape(-1)
        check["keras_mae"] = float(np.mean(np.abs(expected[:, 0] - labels)))
        check["runtime_mae"] = float(np.mean(np.abs(got[:, 0] - labels)))
        return check

    def classes(outputs):
        return (outputs[:, 0] > 0.5).astype(int) if outputs.shape[1] == 1 \
            else outputs.argmax(axis=1)

    labels = np.asarray(data.y_test).reshape(-1)
    check["keras_accuracy"] = float(np.mean(classes(expected) == labels))
    check["runtime_accuracy"] = float(np.mean(classes(got) == labels))
    check["agreement"] = float(np.mean(classes(expected) == classes(got)))
    return check


def _load_run_features(run: RunFolder, config: TrainConfig) -> TextFeatures:
    """The vocabularies a resumed run was trained with (tokens, then each n-gram order)."""
    streams = [FeatureStream(1, Vocabulary.load(run.vocabulary_path))]
    for n in config.ngrams:
        streams.append(FeatureStream(n, Vocabulary.load(run.vocabulary_path.parent /
                                                        stream_file(n))))
    return TextFeatures(streams)


def _save_run_features(run: RunFolder, features: TextFeatures) -> None:
    # vocabulary.json last: its presence says the others are there
    for stream in reversed(features.streams):
        stream.vocabulary.save(run.vocabulary_path.parent / stream.file)


def run_epochs(card: dict[str, Any]) -> int:
    return int((card.get("training") or {}).get("epochs_run", 0))


def _params(model: Any) -> dict[str, int]:
    from rnn_tui.train.card_builder import param_counts

    return param_counts(model)


def _outcome(early_stopping: Any, run: RunFolder, config: TrainConfig
             ) -> tuple[bool, int | None]:
    """(stopped early?, best epoch counted from 1) after fit(); ``early_stopping``: the
    EarlyStopping callback, if the run has one."""
    if early_stopping is not None:
        stopped = early_stopping.stopped_epoch > 0 or run.epochs_done < config.epochs
        best = early_stopping.best_epoch + 1 if early_stopping.best is not None else None
        return stopped, best
    values = run.history.get("val_loss") or []
    if not values:
        return False, None
    return False, int(min(range(len(values)), key=values.__getitem__)) + 1
