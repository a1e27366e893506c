"""Training through tf.distribute: placements, mirrored training over two logical CPU devices,
a two-worker MultiWorkerMirroredStrategy run of two local processes on 127.0.0.1, resuming
after a worker dies, mixed precision, and the global-batch rule.

Tolerance of the equality tests: the same global batch and seed on one device, on two
logical devices (MirroredStrategy) and on two worker processes (MultiWorkerMirroredStrategy)
gives weights that differ only by float summation order in the all-reduce. Measured on this
machine (CPU, TF 2.21, Keras 3.15, op determinism on): max |difference| 6e-8 after 2 epochs
of the tiny GRU below, in both cases. The tests allow 1e-5.

The logical CPU devices and the multi-worker strategy must be set before TensorFlow starts,
so those trainings run in fresh processes (``python -m rnn_tui train ...``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.registry import load_keras_model, open_registries
from rnn_tui.train import TrainConfig, train
from rnn_tui.train.distribute import Placement, mixed_precision_choice, split_cpu
from rnn_tui.train.events import BatchEnded, EpochEnded, Note, RunFinished, RunStarted
from rnn_tui.train.runs import RunFolder
from train_support import run_cli, text_corpus

TOLERANCE = 1e-5
# 96 training rows: 6 full global batches of 16 (8 per replica x 2).
DATA = ["--dataset", "multiplication", "--dataset-option", "train_size=128",
        "--dataset-option", "test_size=32", "--dataset-option", "length=8",
        "--validation", "0.25", "--seed", "7", "--json"]
TINY = [*DATA, "--arch", "gru:4 dense:4"]


def cli(args: list[str], timeout: int = 300) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "rnn_tui", "train", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def weights_of(ref: str) -> list[np.ndarray]:
    return load_keras_model(open_registries().resolve(ref)).get_weights()


def max_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    assert [w.shape for w in a] == [w.shape for w in b]
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def events_named(events: list[dict], kind: str) -> list[dict]:
    return [event for event in events if event["event"] == kind]


# ---------------------------------------------------------------------------- placements
@pytest.mark.parametrize("given, message", [
    ({"strategy": "ring"}, "--strategy must be one of auto, one, mirrored, multiworker"),
    ({"devices": 0}, "--devices must be a whole number >= 1"),
    ({"workers": "127.0.0.1:1,127.0.0.1:2"}, "--workers needs --worker-index"),
    ({"workers": "127.0.0.1:1,127.0.0.1:2", "worker_index": 2}, "--worker-index must be 0..1"),
    ({"workers": "localhost,127.0.0.1:2", "worker_index": 0}, "host:port"),
    ({"worker_index": 0}, "--worker-index needs --workers"),
    ({"strategy": "mirrored", "workers": "a:1,b:2", "worker_index": 0},
     "--workers needs --strategy multiworker"),
])
def test_bad_placements_are_user_errors(given, message):
    with pytest.raises(UserError, match=message):
        Placement.from_flags(**given)


def test_tf_config_from_flags_and_from_the_environment(monkeypatch):
    placement = Placement.from_flags(workers="10.0.0.1:2222, 10.0.0.2:2222", worker_index=1)
    assert placement.tf_config() == {"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
                                     "task": {"type": "worker", "index": 1}}
    given = {"cluster": {"worker": ["a:1", "b:1", "c:1"]}, "task": {"type": "worker",
                                                                  "index": 2}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(given))
    assert Placement().tf_config() == given
    monkeypatch.setenv("TF_CONFIG", '{"cluster": []}')
    with pytest.raises(UserError, match="TF_CONFIG is not valid"):
        Placement().tf_config()


def test_flags_become_the_config_and_the_placement():
    from rnn_tui.cli.train import build_config, build_placement
    from test_cli_train import flags

    options = flags(dataset="multiplication", scale_lr=True, mixed_precision=True,
                    strategy="mirrored", devices=2)
    config = build_config(options)
    assert config.scale_lr and config.mixed_precision
    assert build_placement(options) == Placement(strategy="mirrored", devices=2)
    assert build_placement(flags(dataset="imdb")) == Placement()
    config = build_config(flags(dataset="imdb"))
    assert not config.scale_lr and not config.mixed_precision


@pytest.mark.parametrize("args, message", [
    (["--strategy", "one", "--devices", "2"], "--strategy one trains on one device"),
    (["--strategy", "multiworker"], "needs the cluster"),
    (["--workers", "127.0.0.1:1"], "--workers needs --worker-index"),
])
def test_cli_placement_errors_are_one_line(capsys, args, message):
    code, _, err = run_cli(["train", "--dataset", "multiplication", *args], capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_splitting_the_cpu_after_tensorflow_started_is_refused():
    from rnn_tui.backend import tensorflow

    tf = tensorflow()
    tf.constant(1)  # TensorFlow has started in this process
    with pytest.raises(UserError, match="before it starts"):
        split_cpu(tf, 3)


def test_resuming_with_another_global_batch_is_refused(tmp_path):
    config = TrainConfig(dataset="multiplication", arch="gru:4", epochs=3)
    run = RunFolder(tmp_path / "run")
    run.check_or_start(config, restart=False)
    run.begin_session("2026-01-01T00:00:00+00:00", global_batch_size=16)
    run.record_epoch(1, {"loss": 0.5}, 1.0)
    run.check_global_batch(16)
    with pytest.raises(UserError, match="global batch of 16 rows per step; this command "
                                        "gives 32"):
        run.check_global_batch(32)


# ---------------------------------------------------------------------------- mirrored
def test_mirrored_over_two_logical_cpus_matches_one_device_with_the_global_batch():
    mirrored = cli([*TINY, "--devices", "2", "--batch-size", "8", "--epochs", "2",
                    "--name", "mirrored"])
    started = events_named(mirrored, "RunStarted")[0]
    placement = started["distribution"]
    assert placement["strategy"] == "mirrored" and placement["replicas"] == 2
    assert (placement["per_replica_batch_size"], placement["global_batch_size"]) == (8, 16)
    assert placement["learning_rate"] == 0.001 and "not scaled" in placement["learning_rate_rule"]
    assert started["steps_per_epoch"] == 6 and "2 x CPU" in started["device"]
    assert mirrored[-1]["event"] == "RunFinished" and mirrored[-1]["model_ref"] == "mirrored:1"

    single = cli([*TINY, "--strategy", "one", "--batch-size", "16", "--epochs", "2",
                  "--name", "single"])
    assert events_named(single, "RunStarted")[0]["steps_per_epoch"] == 6
    assert max_difference(weights_of("mirrored"), weights_of("single")) < TOLERANCE
    card = open_registries().resolve("mirrored").card
    assert card["training"]["distribution"]["global_batch_size"] == 16
    assert card["training"]["global_batch_size"] == 16 and card["training"]["batch_size"] == 8
    single_history = open_registries().resolve("single").card["history"]
    for key, series in card["history"].items():
        assert np.allclose(series, single_history[key], atol=1e-5), key


def test_scale_lr_multiplies_the_learning_rate_by_the_replicas():
    events = cli([*TINY, "--devices", "2", "--batch-size", "8", "--epochs", "1", "--scale-lr",
                  "--lr", "0.002", "--name", "scaled", "--no-publish"])
    placement = events_named(events, "RunStarted")[0]["distribution"]
    assert placement["base_learning_rate"] == 0.002
    assert placement["learning_rate"] == pytest.approx(0.004)
    assert placement["learning_rate_rule"] == "scaled linearly: 0.002 x 2 replicas"


# ---------------------------------------------------------------------------- multi-worker
def start_workers(args: list[str], count: int = 2, env_extra: dict | None = None
                  ) -> list[subprocess.Popen]:
    addresses = ",".join(f"127.0.0.1:{port}" for port in free_ports(count))
    env = {**os.environ, **(env_extra or {})}
    return [subprocess.Popen([sys.executable, "-m", "rnn_tui", "train", *args,
                              "--workers", addresses, "--worker-index", str(index)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for index in range(count)]


def finish(process: subprocess.Popen, timeout: int = 240) -> tuple[int, list[dict], str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, [json.loads(line) for line in out.splitlines()], err


def test_two_workers_on_localhost_reach_the_weights_of_one_process():
    args = [*TINY, "--batch-size", "8", "--epochs", "2", "--name", "workers"]
    processes = start_workers(args)
    try:
        (code0, chief, err0), (code1, other, err1) = [finish(p) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert code0 == 0, err0[-3000:]
    assert code1 == 0, err1[-3000:]
    placement = events_named(chief, "RunStarted")[0]["distribution"]
    assert (placement["strategy"], placement["workers"], placement["replicas"]) == \
        ("multiworker", 2, 2)
    assert placement["global_batch_size"] == 16
    assert [e["epoch"] for e in events_named(chief, "EpochEnded")] == [1, 2]
    assert chief[-1]["event"] == "RunFinished" and chief[-1]["model_ref"] == "workers:1"
    # The other worker trains but shows no progress and publishes nothing.
    assert events_named(other, "RunStarted")[0]["distribution"]["worker_index"] == 1
    assert not events_named(other, "EpochEnded") and not events_named(other, "BatchEnded")
    assert other[-1]["event"] == "RunFinished" and other[-1]["model_ref"] is None
    assert other[-1]["epochs_run"] == 2
    assert open_registries().user.versions("workers") == [1]

    single = cli([*TINY, "--strategy", "one", "--batch-size", "16", "--epochs", "2",
                  "--name", "one-process"])
    assert single[-1]["model_ref"] == "one-process:1"
    assert max_difference(weights_of("workers"), weights_of("one-process")) < TOLERANCE


# Runs the real CLI but, in worker PAUSE_WORKER, stops dead when epoch PAUSE_AT starts (so
# the kill lands at a known place: epochs 1..PAUSE_AT-1 are finished and backed up).
PAUSING_WORKER = textwrap.dedent("""
    import os, sys, time
    from rnn_tui.train import engine

    original = engine.make_callbacks

    def make_callbacks(**options):
        callbacks = original(**options)
        keras = options["keras"]

        class Pause(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch + 1 == int(os.environ["PAUSE_AT"]):
                    sys.stderr.write("PAUSED\\n")
                    sys.stderr.flush()
                    time.sleep(600)

        index = sys.argv[sys.argv.index("--worker-index") + 1]
        return callbacks + [Pause()] if index == os.environ["PAUSE_WORKER"] else callbacks

    engine.make_callbacks = make_callbacks
    from rnn_tui.cli import main
    main(sys.argv[1:])
""")


@pytest.mark.slow  # two two-worker sessions, a dead worker noticed, a baseline: 50-110 s
def test_a_multi_worker_run_resumes_after_a_worker_dies(tmp_path):
    script = tmp_path / "pausing_worker.py"
    script.write_text(PAUSING_WORKER)
    args = [*TINY, "--batch-size", "8", "--epochs", "4", "--name", "survivor"]
    addresses = ",".join(f"127.0.0.1:{port}" for port in free_ports(2))
    env = {**os.environ, "PAUSE_AT": "3", "PAUSE_WORKER": "1"}
    processes = [subprocess.Popen([sys.executable, str(script), "train", *args,
                                   "--workers", addresses, "--worker-index", str(index)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env)
                 for index in range(2)]
    chief, worker = processes
    try:
        for line in worker.stderr:
            if line.strip() == "PAUSED":
                break
        else:
            raise AssertionError("worker 1 ended before epoch 3")
        os.kill(worker.pid, signal.SIGKILL)  # the worker dies mid-run
        worker.wait(60)
        code, events, err = finish(chief, timeout=180)  # the chief notices and stops
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(30)
    assert code == 1, err[-2000:]
    failed = events[-1]
    assert failed["event"] == "RunFailed" and failed["epoch"] == 2
    assert "another worker stopped" in failed["message"]
    assert "resumes from epoch 3" in failed["message"]
    assert "rnn-tui: error: another worker stopped" in err
    home = Path(os.environ["RNN_TUI_HOME"])
    metadata = json.loads((home / "runs" / "survivor" / "backup" /
                           "training_metadata.json").read_text())
    assert metadata["epoch"] == 2
    assert "survivor" not in open_registries().names()

    # The cluster manager starts both workers again with the same command.
    restarted = start_workers(args)
    try:
        (code0, chief_events, err0), (code1, other_events, err1) = \
            [finish(p) for p in restarted]
    finally:
        for process in restarted:
            if process.poll() is None:
                process.kill()
    assert code0 == 0, err0[-3000:]
    assert code1 == 0, err1[-3000:]
    assert events_named(chief_events, "RunStarted")[0]["resumed_from"] == 2
    assert events_named(other_events, "RunStarted")[0]["resumed_from"] == 2
    assert [e["epoch"] for e in events_named(chief_events, "EpochStarted")] == [3, 4]
    assert chief_events[-1]["model_ref"] == "survivor:1"
    card = open_registries().resolve("survivor").card
    assert card["training"]["epochs_run"] == 4 and card["training"]["sessions"] == 2
    assert not (home / "runs" / "survivor").exists()

    straight = cli([*TINY, "--strategy", "one", "--batch-size", "16", "--epochs", "4",
                    "--name", "straight"])
    assert straight[-1]["model_ref"] == "straight:1"
    assert max_difference(weights_of("survivor"), weights_of("straight")) < TOLERANCE


def test_a_worker_with_other_flags_is_refused_by_all():
    addresses = ",".join(f"127.0.0.1:{port}" for port in free_ports(2))
    processes = [subprocess.Popen(
        [sys.executable, "-m", "rnn_tui", "train", *TINY, "--batch-size", "8", "--epochs",
         str(epochs), "--name", "mismatch", "--workers", addresses, "--worker-index",
         str(index)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for index, epochs in enumerate((2, 3))]
    try:
        results = [process.communicate(timeout=180) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (_, err) in zip(processes, results):
        assert process.returncode == 2, err[-2000:]
        assert "was started with another training configuration" in err
    assert "mismatch" not in open_registries().names()


# ---------------------------------------------------------------------------- mixed precision
def test_mixed_precision_on_a_cpu_is_off_with_a_note():
    policy, note = mixed_precision_choice(True)
    assert policy is None and "no GPU is visible" in note
    assert mixed_precision_choice(False) == (None, None)
    corpus = text_corpus("binary")
    events = []
    result = train(TrainConfig(dataset=corpus.name, arch="gru", arch_options={"units": 4,
                               "embedding_dim": 4}, epochs=1, batch_size=16, maxlen=10,
                               validation="none", mixed_precision=True, name="mp-cpu"),
                   events.append, corpus=corpus, placement=Placement(strategy="one"))
    assert any(isinstance(e, Note) and e.topic == "precision" and "mixed precision is off"
               in e.text for e in events)
    assert result.card["training"]["mixed_precision"] == {"requested": True,
                                                          "policy": "float32"}
    assert result.model.get_layer("gru_1").compute_dtype == "float32"


def test_a_mixed_float16_model_keeps_a_float32_head_and_exports_float32_weights(tmp_path):
    """The policy is forced here (no GPU): the model trains on the CPU in float16 compute,
    publishes, and its runtime.npz holds float32 weights that give Keras' answers."""
    from rnn_tui.infer.runtime import Runtime
    from rnn_tui.registry import Registries, Registry
    from rnn_tui.train.engine import build_compiled_model, resolve_spec
    from rnn_tui.train.pipeline import train_dataset
    from rnn_tui.train.prepare import prepare_data
    from rnn_tui.train.publish import publish_model

    corpus = text_corpus("multiclass", classes=3, train=64)
    config = TrainConfig(dataset=corpus.name, arch="gru", arch_options={"units": 8,
                         "embedding_dim": 8}, epochs=1, batch_size=16, maxlen=10,
                         validation="none", name="mixed")
    data = prepare_data(config, corpus=corpus)
    spec = resolve_spec(config, data.model_input)
    model, _ = build_compiled_model(config, data, spec, lambda event: None,
                                    dtype_policy="mixed_float16")
    from rnn_tui.backend import keras

    assert keras().mixed_precision.global_policy().name == "float32"  # restored
    assert model.get_layer("gru_1").compute_dtype == "float16"
    assert model.get_layer("output").compute_dtype == "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    dataset, steps = train_dataset(data.x_train, data.y_train, batch_size=16, seed=1,
                                   first_epoch=0, epochs=2)
    model.fit(dataset, epochs=2, steps_per_epoch=steps, verbose=0)
    expected = model.predict(data.x_test, verbose=0)
    assert expected.dtype == np.float32

    registries = Registries(Registry(tmp_path / "models"))
    version, _ = publish_model("mixed", model, data.vocabulary, {"task": "multiclass",
                               "labels": ["a", "b", "c"]}, registries=registries)
    runtime_file = version.file("runtime.npz")
    with np.load(runtime_file) as stored:
        floats = [stored[key].dtype for key in stored.files if stored[key].dtype.kind == "f"]
    assert floats and all(dtype == np.float32 for dtype in floats)
    got = Runtime.load(runtime_file).run(data.x_test)
    # Keras computed in float16; the runtime in float32 from the same float32 weights.
    assert np.allclose(got, expected, atol=5e-3)
    loaded = load_keras_model(version)
    assert np.allclose(loaded.predict(data.x_test, verbose=0), expected, atol=1e-6)


# ---------------------------------------------------------------------------- events
def test_one_device_runs_say_so_in_run_started_and_the_card():
    corpus = text_corpus("binary")
    events = []
    result = train(TrainConfig(dataset=corpus.name, arch="gru", arch_options={"units": 4,
                               "embedding_dim": 4}, epochs=1, batch_size=16, maxlen=10,
                               validation="none", name="one-device"),
                   events.append, corpus=corpus)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.distribution["strategy"] == "one" and started.distribution["replicas"] == 1
    assert started.distribution["global_batch_size"] == 16
    assert any(isinstance(e, EpochEnded) for e in events)
    assert any(isinstance(e, BatchEnded) for e in events)
    assert isinstance(events[-1], RunFinished)
    assert result.card["training"]["distribution"]["strategy"] == "one"
