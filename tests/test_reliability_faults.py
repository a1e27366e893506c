"""Faults: processes SIGKILLed while training and publishing, a disk that fills up while
saving, and damaged model files. Nothing may be lost, half-written or misread.

The campaigns live in tests/reliability_support.py (bench/reliability.py runs them longer).
The training ones start real ``rnn-tui train`` processes and are marked slow.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from reliability_support import (
    DAMAGE_CASES,
    audit_registry,
    damage,
    disk_full_after,
    disk_full_publish_campaign,
    one_line_error,
    publish_kill_campaign,
    registry_snapshot,
    train_args,
    training_kill_campaign,
)
from rnn_tui.registry import Registries, Registry
from train_support import run_cli

CAMPAIGN_SEED = 20261125


@pytest.fixture
def home(isolated_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    return isolated_home


# ---------------------------------------------------------------------------- kills
def test_publishers_killed_at_every_step_leave_whole_versions_or_none(tmp_path,
                                                                      tiny_text_models):
    source = tiny_text_models / "imdb-sentiment" / "1"
    result = publish_kill_campaign(tmp_path / "models", source, random_kills=6,
                                   seed=CAMPAIGN_SEED)
    assert result.failures == []
    assert result.injected == result.survived == 7 + 6


@pytest.mark.slow  # 20 kills of real `rnn-tui train` processes and the resumes: ~2 min
def test_training_killed_twenty_times_resumes_and_loses_nothing(tmp_path):
    lines: list[str] = []
    result = training_kill_campaign(tmp_path / "home", kills=20, seed=CAMPAIGN_SEED,
                                    log=lines.append)
    print("\n".join(lines))
    print(result.details)
    assert result.failures == [], "\n".join(lines)
    assert result.injected == result.survived == 20
    # trainings published (each compared with an uninterrupted run of the same seed)
    assert len(result.details["trainings"]) >= 2


def test_a_run_folder_deleted_half_way_is_not_taken_for_a_run(tmp_path):
    from rnn_tui.train.config import TrainConfig
    from rnn_tui.train.runs import RunFolder

    run = RunFolder(tmp_path / "runs" / "demo")
    config = TrainConfig(dataset="multiplication", arch="gru:4", epochs=3, name="demo")
    assert run.check_or_start(config, restart=False) == 0
    # what a process killed while deleting the finished run leaves: config.json goes first
    (run.path / "backup").mkdir()
    (run.path / "backup" / "training_metadata.json").write_text(
        json.dumps({"epoch": 3, "weights": "epoch-3.weights.h5"}))
    (run.path / "backup" / "epoch-3.weights.h5").write_bytes(b"weights")
    (run.path / "final.weights.h5").write_bytes(b"weights")
    run.state.update(epochs_done=3, fit_finished=True)
    run._write_state()
    run.config_path.unlink()

    again = RunFolder(run.path)
    assert again.check_or_start(config, restart=False) == 0
    assert sorted(p.name for p in run.path.iterdir()) == ["config.json", "state.json"]
    assert not again.fit_finished and again.epochs_done == 0


def published_card(started: str, seconds: list[float]) -> dict:
    return {"task": "binary", "labels": ["neg", "pos"],
            "metrics": {"test": {"accuracy": 0.5}},
            "training": {"started": started, "epoch_seconds": seconds,
                         "config": {"epochs": len(seconds)}},
            "history": {"loss": [0.5] * len(seconds)}}


def test_a_run_published_before_a_kill_is_recognised(tmp_path):
    from rnn_tui.train.publish import already_published

    registries = Registries(Registry(tmp_path / "models"))

    def build(card):
        def write(folder):
            (folder / "model.keras").write_bytes(b"weights")
            return card
        return write

    card = published_card("2026-11-25T10:00:00+00:00", [1.25, 1.5])
    version = registries.publish("demo", build(card))
    registries.publish("demo", build(published_card("2026-11-25T11:00:00+00:00", [1.0])))
    assert already_published(registries, "demo", card) == version
    other = published_card("2026-11-25T10:00:00+00:00", [1.25, 1.51])
    assert already_published(registries, "demo", other) is None
    assert already_published(registries, "other", card) is None


# ---------------------------------------------------------------------------- disk full
def test_disk_full_while_publishing_keeps_the_old_version_and_leaves_nothing(tmp_path,
                                                                            tiny_text_models):
    source = tiny_text_models / "imdb-sentiment" / "1"
    archive = Registry(tiny_text_models).export("reuters-topics", tmp_path / "topics.zip")
    result = disk_full_publish_campaign(tmp_path / "models", source, archive)
    assert result.failures == []
    assert result.injected >= 30 and result.operations >= 2  # full, and then room enough
    registry = Registry(tmp_path / "models")
    numbers = registry.versions("model")
    assert registry.publish("model", source).version > max(numbers)  # never reused


def test_disk_full_in_the_cli_is_one_clear_line(home, tmp_path, tiny_text_models, capsys):
    archive = Registry(tiny_text_models).export("reuters-topics", tmp_path / "topics.tar.gz")
    root = home / "models"
    code, _, err = run_cli(["models", "import", "topics", str(archive)], capsys)
    assert code == 0, err
    before = registry_snapshot(root)
    for budget in (0, 2_000, 20_000):
        with disk_full_after(root, budget):
            code, out, err = run_cli(["models", "import", "topics", str(archive)], capsys)
        assert code == 1, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert err.startswith("rnn-tui: error: the disk is full (No space left on device) "
                              f"writing {root}"), err
        assert err.rstrip().endswith("free some space and run the same command again")
        assert registry_snapshot(root) == before
        assert audit_registry(root, allow_leftovers=False) == []
    code, _, err = run_cli(["models", "import", "topics", str(archive)], capsys)
    assert code == 0, err
    assert len(Registry(root).versions("topics")) == 2


# A `rnn-tui train` whose disk fills up: FAULT=publish limits file sizes (RLIMIT_FSIZE) just
# before publishing; FAULT=checkpoint reports a nearly full disk to the checkpoint writers.
FULL_DISK_CHILD = textwrap.dedent("""
    import os, resource, shutil, signal, sys
    fault = os.environ.get("FAULT")
    if fault == "publish":
        from rnn_tui.train import publish
        real_publish = publish.publish_model
        def publish_model(*args, **kwargs):
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
            return real_publish(*args, **kwargs)
        publish.publish_model = publish_model
    elif fault == "checkpoint":
        real_usage = shutil.disk_usage
        shutil.disk_usage = lambda path: real_usage(path)._replace(free=50_000)
    from rnn_tui.cli import main
    main(sys.argv[1:])
""")


@pytest.mark.slow  # four short trainings in subprocesses
def test_disk_full_while_training_and_publishing(tmp_path):
    home = tmp_path / "home"
    script = tmp_path / "full_disk_cli.py"
    script.write_text(FULL_DISK_CHILD)
    args = train_args("full", epochs=3, train_size=128)

    def train(fault: str = ""):
        import subprocess

        from reliability_support import _read_events, cli_env

        done = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                              timeout=600, env=cli_env(home, FAULT=fault))
        return done, _read_events(done.stdout)

    done, events = train()
    assert done.returncode == 0, done.stderr.decode()
    root = home / "models"
    before = registry_snapshot(root)
    assert list(before["full"]) == [1]

    # the disk fills while the new version is saved: v1 intact, nothing left behind
    done, events = train("publish")
    line = one_line_error(done)
    assert done.returncode == 1
    assert "a file would pass the file-size limit (File too large)" in line
    assert "free some space and run the same command again" in line
    assert registry_snapshot(root) == before
    assert audit_registry(root, allow_leftovers=False) == []
    run_dir = home / "runs" / "full"
    assert (run_dir / "final.weights.h5").exists()  # the trained weights wait for room
    # room again: the same command publishes v2 without training again
    done, events = train()
    assert done.returncode == 0, done.stderr.decode()
    assert not [e for e in events if e["event"] == "EpochStarted"]
    assert events[-1]["event"] == "RunFinished" and events[-1]["model_ref"] == "full:2"
    assert Registry(root).versions("full") == [1, 2]

    # the disk is (nearly) full when the first checkpoint is due: a clear error, no partial
    # checkpoint, and the same command starts again once there is room
    args[args.index("--name") + 1] = "fuller"
    done, events = train("checkpoint")
    line = one_line_error(done)
    assert done.returncode == 1
    assert "the disk is full (50,000 bytes free, about" in line
    assert not list((home / "runs" / "fuller").rglob("saving*"))
    done, events = train()
    assert done.returncode == 0, done.stderr.decode()
    assert events[0]["resumed_from"] == 0
    assert audit_registry(root, allow_leftovers=False) == []


# ---------------------------------------------------------------------------- damaged files
@pytest.fixture
def damaged_home(home, tiny_text_models):
    registry = Registry(home / "models")
    registry.publish("good", tiny_text_models / "reuters-topics" / "1")
    registry.publish("broken", tiny_text_models / "imdb-sentiment" / "1")
    return home


@pytest.mark.parametrize(("file_name", "how"), DAMAGE_CASES)
def test_a_damaged_file_is_named_and_the_rest_keeps_working(damaged_home, capsys, file_name,
                                                            how):
    path = damaged_home / "models" / "broken" / "1" / file_name
    damage(path, how)

    code, out, err = run_cli(["models", "list"], capsys)
    assert code == 0 and "good" in out
    if file_name == "card.json":
        assert "broken" not in out and f"rnn-tui: warning: {path}" in err
        if how == "format":
            assert "format_version 2 is not supported" in err
    else:
        assert "broken" in out

    code, _, err = run_cli(["models", "verify", "broken"], capsys)
    assert code == 2 and str(path) in err and len(err.strip().splitlines()) == 1

    code, out, err = run_cli(["predict", "-m", "broken", "wonderful film"], capsys)
    if file_name == "model.keras":
        assert code == 0, err  # predict never reads the Keras file
    else:
        assert code == 2 and "Traceback" not in err, err
        assert str(path) in err and len(err.strip().splitlines()) == 1, err

    code, out, err = run_cli(["predict", "-m", "good", "oil prices rose"], capsys)
    assert code == 0 and err == "", err
    code, out, err = run_cli(["models", "show", "good"], capsys)
    assert code == 0


def test_a_damaged_model_file_is_never_loaded(damaged_home):
    from rnn_tui.errors import DataError
    from rnn_tui.registry import load_keras_model, open_registries

    path = damaged_home / "models" / "broken" / "1" / "model.keras"
    damage(path, "flipped")
    with pytest.raises(DataError, match="does not match the sha256") as refused:
        load_keras_model(open_registries().resolve("broken"))
    assert refused.value.path == path


async def test_the_app_starts_with_damaged_models_and_shows_the_others(
        home, tiny_text_models, monkeypatch):
    from rnn_tui.tui.app import RnnTuiApp
    from tui_helpers import transcript_text, wait_for

    registry = Registry(home / "models")
    for name, how in (("broken-card", "truncated"), ("broken-runtime", "flipped"),
                      ("newer-format", "format")):
        version = registry.publish(name, tiny_text_models / "imdb-sentiment" / "1")
        damage(version.path / ("runtime.npz" if name == "broken-runtime" else "card.json"), how)
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tiny_text_models))
    app = RnnTuiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.book is not None and app.book.is_loaded(
            "imdb-sentiment"), what="the models")
        names = {summary.name for summary in app.models}
        assert {"imdb-sentiment", "reuters-topics", "broken-runtime"} <= names
        assert "broken-card" not in names and "newer-format" not in names
        await wait_for(pilot, lambda: "card.json" in transcript_text(app, 120),
                       what="the registry warnings")
        shown = "".join(transcript_text(app, 120).split())  # as one line, without wrapping
        assert "broken-card/1/card.json" in shown and "format_version2isnotsupported" in shown
        await pilot.press(*"wonderful")
        await wait_for(pilot, lambda: app.live_text == "wonderful", what="the verdict")
        from rnn_tui.tui.widgets.chat_input import ChatInput

        chat_input = app.query_one("#input", ChatInput)
        chat_input.value = "/model broken-runtime"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "runtime.npz" in transcript_text(app, 120),
                       what="the runtime error")
        assert app.is_running
