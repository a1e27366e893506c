"""Concurrency: predictions while another process publishes, trainers racing to publish one
name (and @best), the app open while the CLI publishes.

Real processes throughout (``rnn-tui predict``/``train``/``models import``); the models are
the tiny real ones of conftest's ``tiny_text_models``.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reliability_support import (
    audit_registry,
    cli,
    cli_env,
    predict_while_publishing,
    train_args,
    two_trainers,
)
from rnn_tui.registry import Registry

SPAWN = multiprocessing.get_context("spawn")


def test_eight_predict_loops_while_another_process_publishes(tmp_path, tiny_text_models):
    sources = [tiny_text_models / name / "1"
               for name in ("imdb-sentiment", "nsmc-sentiment", "reuters-topics")]
    result = predict_while_publishing(tmp_path / "home", sources, processes=8, calls=3,
                                      interval=0.2)
    assert result.failures == []
    details = result.details
    assert details["calls"] == 24 and details["predictions"] == 48
    assert details["publishes"] >= 3
    assert details["versions_answering"] >= 2  # answers did come from several versions


# ---------------------------------------------------------------------------- @best race
def race_to_publish(root: str, accuracy: float, delay: float, barrier, results) -> None:
    """publish_model with a stand-in model (no TensorFlow): both racers read the registry,
    meet at the barrier just before publishing, then publish ``delay`` seconds apart."""
    from rnn_tui.registry import Registries, Registry, Stage
    from rnn_tui.train import publish

    class Model:  # what publish_model needs of a Keras model: save()
        def save(self, path):
            Path(path).write_bytes(f"weights {accuracy}".encode())

    publish.inference_copy = lambda model: model
    publish.export_runtime_weights = lambda model, path, **options: Path(path).write_bytes(
        b"rt") and {}
    real_publish = Stage.publish

    def meet_then_publish(self, *args, **kwargs):
        barrier.wait(timeout=60)
        time.sleep(delay)
        return real_publish(self, *args, **kwargs)

    Stage.publish = meet_then_publish
    card = {"task": "binary", "labels": ["neg", "pos"],
            "metrics": {"test": {"accuracy": accuracy, "loss": 1 - accuracy}}}
    version, aliases = publish.publish_model("raced", Model(), None, card,
                                             registries=Registries(Registry(root)))
    results.put((accuracy, f"{version.ref} {aliases}"))


def test_two_publishers_finishing_at_once_cannot_both_claim_best(tmp_path):
    root = tmp_path / "models"
    barrier = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    # the better model publishes first; the worse one a moment later must not take @best
    racers = [SPAWN.Process(target=race_to_publish,
                            args=(str(root), accuracy, delay, barrier, results))
              for accuracy, delay in ((0.9, 0.0), (0.6, 0.5))]
    for racer in racers:
        racer.start()
    outcomes = dict(results.get(timeout=120) for _ in racers)
    for racer in racers:
        racer.join(60)
        assert racer.exitcode == 0
    registry = Registry(root)
    assert registry.versions("raced") == [1, 2]
    assert outcomes == {0.9: "raced:1 ['best']", 0.6: "raced:2 []"}
    assert registry.aliases("raced") == {"best": 1}
    assert audit_registry(root, allow_leftovers=False) == []


@pytest.mark.slow  # two real trainings at once
def test_two_trainings_of_one_name_publish_two_versions(tmp_path):
    result = two_trainers(tmp_path)
    assert result.failures == []
    assert sorted(result.details["refs"]) == ["shared:1", "shared:2"]


# The real CLI, holding still when epoch 2 starts until the file named by GO exists.
WAITING_CLI = """
import os, sys, time
from pathlib import Path
from rnn_tui.train import render
original = render.renderer_for

def renderer_for(mode, stream=None):
    writer = original("json", stream)
    def handle(event):
        writer(event)
        if type(event).__name__ == "EpochStarted" and event.epoch == 2:
            deadline = time.monotonic() + 120
            while not Path(os.environ["GO"]).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
    return handle

render.renderer_for = renderer_for
from rnn_tui.cli import main
main(sys.argv[1:])
"""


@pytest.mark.slow  # two real trainings at once
def test_a_second_trainer_of_the_same_run_is_refused_clearly(tmp_path):
    home = tmp_path / "home"
    go = tmp_path / "go"
    args = train_args("same", epochs=3, train_size=128)
    first = subprocess.Popen([sys.executable, "-c", WAITING_CLI, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**cli_env(home), "GO": str(go)})
    # the first holds the run (it waits at epoch 2) while the second one starts
    for line in first.stdout:
        if b'"EpochStarted"' in line and b'"epoch": 2' in line:
            break
    second = cli(args, home)
    go.touch()
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err.decode()
    assert second.returncode == 2
    message = second.stderr.decode()
    assert "another rnn-tui process is training the run 'same'" in message
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1
    assert Registry(home / "models").versions("same") == [1]
    assert audit_registry(home / "models", allow_leftovers=False) == []


# ---------------------------------------------------------------------------- the app
async def test_the_app_follows_versions_the_cli_publishes(tmp_path, tiny_text_models,
                                                          monkeypatch, isolated_home):
    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.verdicts import SENTIMENT
    from rnn_tui.tui.widgets.chat_input import ChatInput
    from tui_helpers import transcript_text, wait_for

    archive = Registry(tiny_text_models).export("imdb-sentiment", tmp_path / "imdb.tar.gz")
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tiny_text_models))
    env = {**cli_env(isolated_home), "RNN_TUI_SHIPPED_MODELS": str(tiny_text_models)}
    app = RnnTuiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.book is not None and app.book.is_loaded(
            "imdb-sentiment"), what="the models")
        chat_input = app.query_one("#input", ChatInput)
        for round_number in range(1, 4):
            # the CLI, in another process, publishes a new version of the model in use
            publisher = subprocess.Popen(
                [sys.executable, "-m", "rnn_tui", "models", "import", "imdb-sentiment",
                 str(archive)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            typed = f"wonderful {round_number}"
            chat_input.focus()
            chat_input.value = ""
            await pilot.press(*typed)  # typing on while it publishes
            while publisher.poll() is None:
                await pilot.pause(0.05)
            assert publisher.returncode == 0, publisher.stderr.read().decode()
            ref = f"imdb-sentiment:{round_number}"
            await wait_for(pilot, lambda: f"new in the registry: {ref}" in
                           transcript_text(app, 120), timeout=20, what=f"{ref} announced")

            def answered_by_new_version() -> bool:
                loaded = app.book._loaded.get("imdb-sentiment")
                return loaded is not None and loaded.version.ref == ref

            await wait_for(pilot, answered_by_new_version, timeout=20, what=f"{ref} loaded")
            chat_input.value = ""
            await pilot.press(*f"brilliant {round_number}")
            await wait_for(pilot, lambda: app.live_text == f"brilliant {round_number}",
                           what="the verdict")
            assert app.live.verdicts[SENTIMENT].model == ref
        assert app.is_running
        sources = {summary.name: summary.source for summary in app.models}
        assert sources["imdb-sentiment"] == "user"
    assert Registry(isolated_home / "models").versions("imdb-sentiment") == [1, 2, 3]
