"""Training on several devices or machines, through TensorFlow's own ``tf.distribute``.

Strategies (``rnn-tui train --strategy``):

- ``one``: one device (the first GPU, else the CPU); TensorFlow's default strategy, exactly
  the single-process engine.
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over N local devices: ``--devices N``
  GPUs, or, on a machine without GPUs, the CPU split into N logical devices
  (``tf.config.set_logical_device_configuration``; that is how it is tested here).
- ``multiworker``: ``tf.distribute.MultiWorkerMirroredStrategy``, one process per machine,
  configured by ``TF_CONFIG`` or by ``--workers host:port,host:port --worker-index I``.
  Worker 0 is the chief: it alone renders progress, writes the run folder and publishes.
- ``auto`` (the default): multiworker when a cluster of more than one worker is given,
  mirrored when more than one local device would be used (several visible GPUs, or
  ``--devices N`` with N > 1), else one.

The batch rule: ``--batch-size`` is *per replica*; each optimizer step averages the
gradient over the global batch, ``batch_size x replicas``. The learning rate is unchanged by
default; ``--scale-lr`` multiplies it by the number of replicas (the linear scaling rule of
Goyal et al., 2017, "Accurate, Large Minibatch SGD"), for when more replicas should mean
bigger steps rather than less noisy ones. Both are shown in ``RunStarted`` and recorded in
the card (``training.distribution``). With more than one replica every training step is a
full global batch: an epoch is ``floor(rows / global batch)`` steps and the few rows left
over change every epoch (the shuffle does), so none is left out for good.

Devices must be chosen before TensorFlow starts, so :func:`setup_distribution` runs first
in ``train()``, before any tensor exists.

Keras 3.15 with MultiWorkerMirroredStrategy needs two repairs (keras-team/keras#20585): the
model is built from a local sample batch instead of a cross-worker reduction of the first
batch (which fails on (x, y) tuples and on unevenly split batches), and metric logs are
averaged across workers with ``axis=None`` (Keras passes ``axis=0``, which fails on
scalars). Both are applied here only while a strategy is in use.

>>> Placement.from_flags(strategy="auto", devices=2).devices
2
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rnn_tui.errors import RnnTuiError, UserError

STRATEGIES = ("auto", "one", "mirrored", "multiworker")
TF_CONFIG = "TF_CONFIG"
MIXED_POLICY = "mixed_float16"
# Tensor Cores (Volta and later): where float16 compute is faster than float32.
MIXED_MIN_CAPABILITY = (7, 0)


class WorkerLostError(RnnTuiError):
    """Another worker of a multi-worker run stopped; the run can be resumed."""


# ---------------------------------------------------------------------------- what was asked
@dataclass(frozen=True)
class Placement:
    """Where to train, as the user asked (flags); resolved by :func:`setup_distribution`.

    Attributes:
        strategy: auto, one, mirrored or multiworker.
        devices: how many local devices (GPUs, or logical CPU devices); None: all GPUs.
        workers: ``host:port`` of every worker, for multiworker without TF_CONFIG.
        worker_index: this process' position in ``workers``.
    """

    strategy: str = "auto"
    devices: int | None = None
    workers: tuple[str, ...] = ()
    worker_index: int | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise UserError(f"--strategy must be one of {', '.join(STRATEGIES)}, "
                            f"not {self.strategy!r}")
        if self.devices is not None and (isinstance(self.devices, bool)
                                         or not isinstance(self.devices, int)
                                         or self.devices < 1):
            raise UserError(f"--devices must be a whole number >= 1, not {self.devices!r}")
        for address in self.workers:
            host, colon, port = address.rpartition(":")
            if not colon or not host or not (port.isdigit() and port.isascii()) \
                    or not 0 < int(port) < 65536:
                raise UserError(f"--workers takes host:port,host:port,..., not {address!r}")
        if self.workers and self.worker_index is None:
            raise UserError("--workers needs --worker-index (0 for the chief)")
        if self.worker_index is not None:
            if not self.workers:
                raise UserError("--worker-index needs --workers host:port,... "
                                "(or set TF_CONFIG instead of both)")
            if not 0 <= self.worker_index < len(self.workers):
                raise UserError(f"--worker-index must be 0..{len(self.workers) - 1} for "
                                f"{len(self.workers)} workers, not {self.worker_index}")
        if self.workers and self.strategy not in ("auto", "multiworker"):
            raise UserError(f"--workers needs --strategy multiworker (or auto), not "
                            f"{self.strategy}")

    @classmethod
    def from_flags(cls, strategy: str | None = None, devices: int | None = None,
                   workers: str | None = None, worker_index: int | None = None) -> Placement:
        addresses = tuple(part.strip() for part in (workers or "").split(",") if part.strip())
        return cls(strategy=strategy or "auto", devices=devices, workers=addresses,
                   worker_index=worker_index)

    def tf_config(self) -> dict[str, Any] | None:
        """The cluster: built from ``--workers``/``--worker-index``, else ``$TF_CONFIG``."""
        if self.workers:
            return {"cluster": {"worker": list(self.workers)},
                    "task": {"type": "worker", "index": self.worker_index}}
        text = os.environ.get(TF_CONFIG, "").strip()
        if not text:
            return None
        try:
            config = json.loads(text)
            cluster, task = config["cluster"], config["task"]
            int(task["index"]), str(task["type"])
            if not isinstance(cluster, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{TF_CONFIG} is not valid: it needs "
                            '{"cluster": {"worker": ["host:port", ...]}, '
                            '"task": {"type": "worker", "index": 0}}') from None
        return config


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


def cluster_size(tf_config: dict[str, Any] | None) -> int:
    """Workers (and a chief, if named) in a TF_CONFIG."""
    if not tf_config:
        return 0
    cluster = tf_config["cluster"]
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


# ---------------------------------------------------------------------------- what we got
@dataclass
class Distribution:
    """The resolved placement: the strategy object and the facts about it.

    ``strategy`` is None for ``one`` (TensorFlow's default strategy: nothing changes).
    """

    kind: str
    strategy: Any
    replicas: int
    device: str
    workers: int = 1
    worker_index: int = 0
    is_chief: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def distributed(self) -> bool:
        return self.strategy is not None

    def scope(self) -> Any:
        """Variables made inside are mirrored over the replicas (no-op for ``one``)."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def global_batch_size(self, per_replica: int) -> int:
        return per_replica * self.replicas

    def learning_rate(self, base: float, scale: bool) -> float:
        """The learning rate the optimizer gets (see the module docstring)."""
        return base * self.replicas if scale else base

    def describe(self, per_replica: int, base_rate: float, scale: bool) -> dict[str, Any]:
        """The facts for RunStarted and the card's ``training.distribution``."""
        rate = self.learning_rate(base_rate, scale)
        if scale and self.replicas > 1:
            rule = f"scaled linearly: {base_rate:g} x {self.replicas} replicas"
        elif self.replicas > 1:
            rule = "not scaled; --scale-lr multiplies it by the replicas"
        else:
            rule = "one replica"
        return {
            "strategy": self.kind,
            "replicas": self.replicas,
            "workers": self.workers,
            "worker_index": self.worker_index,
            "device": self.device,
            "per_replica_batch_size": per_replica,
            "global_batch_size": self.global_batch_size(per_replica),
            "base_learning_rate": base_rate,
            "learning_rate": rate,
            "learning_rate_rule": rule,
        }

    # ------------------------------------------------------------------ models
    def prepare_model(self, model: Any, sample_batch: tuple[Any, Any]) -> None:
        """Build the model's, optimizer's and metrics' variables under the strategy from a
        local sample batch, so Keras need not reduce the first real batch across replicas
        (see the module docstring). No-op for ``one``."""
        if self.strategy is None or not hasattr(model, "_symbolic_build"):
            return
        with self.strategy.scope():
            model._symbolic_build(data_batch=sample_batch)
        if hasattr(model, "_maybe_symbolic_build"):
            model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None

    # ------------------------------------------------------------------ workers
    def agree(self, row: list[int]) -> list[list[int]]:
        """Every worker's ``row`` (an all-gather; each worker must call it, in the same
        order). The first value of a row should be the worker's index."""
        if self.kind != "multiworker":
            return [list(row)]
        from rnn_tui.backend import tensorflow

        tf = tensorflow()
        values = tf.constant([row], dtype=tf.int64)
        try:
            gathered = self.strategy.gather(self.strategy.run(lambda: tf.identity(values)),
                                            axis=0)
        except Exception as error:
            if is_worker_lost(error):
                raise WorkerLostError(
                    f"another worker stopped before training began ({type(error).__name__}); "
                    "start every worker again with the same command") from None
            raise
        rows: dict[int, list[int]] = {}
        for item in gathered.numpy().tolist():  # one row per replica: keep one per worker
            rows.setdefault(int(item[0]), [int(v) for v in item])
        return [rows[index] for index in sorted(rows)]


def setup_distribution(placement: Placement | None = None) -> Distribution:
    """Choose the devices and make the strategy; call before TensorFlow makes any tensor.

    >>> distribution = setup_distribution(Placement(strategy="one"))     # doctest: +SKIP
    >>> distribution.kind, distribution.replicas                          # doctest: +SKIP
    ('one', 1)
    """
    from rnn_tui.backend import tensorflow

    placement = placement or Placement()
    tf = tensorflow()
    tf_config = placement.tf_config() if placement.strategy in ("auto", "multiworker") \
        else None
    kind = placement.strategy
    gpus = tf.config.list_physical_devices("GPU")
    if kind == "auto":
        if cluster_size(tf_config) > 1:
            kind = "multiworker"
        elif (placement.devices or len(gpus)) > 1:
            kind = "mirrored"
        else:
            kind = "one"
    if kind == "one":
        if (placement.devices or 1) > 1:
            raise UserError(f"--strategy one trains on one device; --devices "
                            f"{placement.devices} needs --strategy mirrored (or auto)")
        if placement.devices == 1 and gpus:
            _limit_gpus(tf, gpus, 1)
        return Distribution(kind="one", strategy=None, replicas=1, device=device_name())
    if kind == "mirrored":
        return _mirrored(tf, gpus, placement.devices)
    if tf_config is None:
        raise UserError("--strategy multiworker needs the cluster: --workers "
                        "host:port,host:port --worker-index I, or TF_CONFIG")
    return _multiworker(tf, gpus, placement.devices, tf_config, bool(placement.workers))


def _limit_gpus(tf: Any, gpus: list[Any], count: int) -> None:
    if count > len(gpus):
        raise UserError(f"--devices {count}: only {len(gpus)} GPU(s) are visible")
    try:
        tf.config.set_visible_devices(gpus[:count], "GPU")
    except RuntimeError:  # TensorFlow already started: fine if it matches
        if len(tf.config.get_visible_devices("GPU")) != count:
            raise UserError(f"--devices {count}: TensorFlow has already started in this "
                            "process with other devices; run the training in a new "
                            "process") from None


def split_cpu(tf: Any, count: int) -> None:
    """Split the CPU into ``count`` logical devices (before TensorFlow starts)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:  # already started: fine if it already has that many
        have = len(tf.config.list_logical_devices("CPU"))
        if have != count:
            raise UserError(f"--devices {count}: TensorFlow has already started in this "
                            f"process with {have} CPU device(s); the CPU can be split only "
                            "before it starts (run the training in a new process)") from None


def _mirrored(tf: Any, gpus: list[Any], devices: int | None) -> Distribution:
    if gpus:
        count = devices or len(gpus)
        _limit_gpus(tf, gpus, count)
        names = [f"/gpu:{i}" for i in range(count)]
        label = f"{count} x {_gpu_label(tf, gpus[0])}"
    else:
        count = devices or 1
        if count > 1:
            split_cpu(tf, count)
        names = [f"/cpu:{i}" for i in range(count)]
        label = f"{count} x CPU" + (" (logical devices of one CPU)" if count > 1 else "")
    strategy = tf.distribute.MirroredStrategy(devices=names)
    notes = []
    if count == 1:
        notes.append("mirrored strategy over a single device: no speed-up (--devices N)")
    return Distribution(kind="mirrored", strategy=strategy,
                        replicas=int(strategy.num_replicas_in_sync), device=label, notes=notes)


def _multiworker(tf: Any, gpus: list[Any], devices: int | None, tf_config: dict[str, Any],
                 from_flags: bool) -> Distribution:
    if gpus:
        _limit_gpus(tf, gpus, devices or len(gpus))
    elif (devices or 1) > 1:
        raise UserError("--devices N with --strategy multiworker picks GPUs; without GPUs "
                        "each worker is one CPU replica")
    if from_flags:
        os.environ[TF_CONFIG] = json.dumps(tf_config)
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.AUTO)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    _repair_keras_multiworker_logs()
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, int(resolver.task_id)
    cluster = tf_config["cluster"]
    has_chief = bool(cluster.get("chief"))
    is_chief = task_type == "chief" or (task_type == "worker" and task_id == 0
                                        and not has_chief)
    index = 0 if task_type == "chief" else task_id + (1 if has_chief else 0)
    workers = cluster_size(tf_config)
    local = f"{len(tf.config.get_visible_devices('GPU'))} GPU(s)" if gpus else "CPU"
    return Distribution(kind="multiworker", strategy=strategy,
                        replicas=int(strategy.num_replicas_in_sync),
                        device=f"{workers} workers x {local}", workers=workers,
                        worker_index=index, is_chief=is_chief)


def _gpu_label(tf: Any, gpu: Any) -> str:
    with contextlib.suppress(Exception):
        name = tf.config.experimental.get_device_details(gpu).get("device_name")
        if name:
            return f"GPU ({name})"
    return "GPU"


def _repair_keras_multiworker_logs() -> None:
    """Average per-worker metric results with axis=None (see the module docstring)."""
    try:
        from keras.src.backend.tensorflow import trainer as keras_trainer
    except ImportError:  # another Keras layout: nothing to repair
        return
    original = getattr(keras_trainer, "reduce_per_replica", None)
    is_multiworker = getattr(keras_trainer, "_collective_all_reduce_multi_worker", None)
    if original is None or is_multiworker is None or getattr(original, "repaired", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and is_multiworker(strategy):
            import tensorflow as tf

            return tf.nest.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None),
                                         values)
        return original(values, strategy, reduction)

    reduce_per_replica.repaired = True
    keras_trainer.reduce_per_replica = reduce_per_replica


def is_worker_lost(error: BaseException) -> bool:
    """Whether a TensorFlow error means a peer of a multi-worker run went away."""
    import sys

    tf = sys.modules.get("tensorflow")
    if tf is None:
        return False
    lost = (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.CancelledError,
            tf.errors.DeadlineExceededError)
    return isinstance(error, lost)


# ---------------------------------------------------------------------------- mixed precision
def mixed_precision_choice(requested: bool) -> tuple[str | None, str | None]:
    """``(policy, note)``: ``mixed_float16`` only when asked and every visible GPU has
    compute capability >= 7.0; otherwise None and, when asked, why it is off."""
    if not requested:
        return None, None
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    gpus = tf.config.get_visible_devices("GPU")
    if not gpus:
        return None, ("mixed precision is off: no GPU is visible (float16 brings no speed on "
                      "a CPU); training in float32")
    for gpu in gpus:
        details = {}
        with contextlib.suppress(Exception):
            details = tf.config.experimental.get_device_details(gpu)
        capability = details.get("compute_capability")
        if capability is None or tuple(capability) < MIXED_MIN_CAPABILITY:
            name = details.get("device_name", gpu.name)
            shown = "unknown" if capability is None else ".".join(map(str, capability))
            return None, (f"mixed precision is off: {name} has compute capability {shown}; "
                          "float16 is faster only with Tensor Cores (7.0 or higher); "
                          "training in float32")
    return MIXED_POLICY, ("mixed precision on: float16 compute, float32 weights and a "
                          "float32 output layer; the loss is scaled (LossScaleOptimizer)")


@contextlib.contextmanager
def global_dtype_policy(policy: str | None) -> Iterator[None]:
    """Layers built inside take ``policy`` (the global Keras policy is restored after)."""
    if policy is None:
        yield
        return
    from rnn_tui.backend import keras

    mixed_precision = keras().mixed_precision
    previous = mixed_precision.global_policy()
    mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        mixed_precision.set_global_policy(previous)
