"""Resume after a real SIGKILL: a subprocess training a tiny model is killed after epoch k;
``rnn-tui train`` with the same arguments continues at epoch k+1, finishes, and ends with the
same weights as an uninterrupted run of the same seed.

Tolerance: none needed so far. With the batch order a function of (seed, epoch), the
optimizer state in the backup and the dropout seed-generator states saved beside it, the
resumed weights have been bit-identical to the uninterrupted run's on CPU (max |difference|
0.0); the test allows 1e-6 in case a platform's kernels are not bitwise reproducible.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.registry import load_keras_model, open_registries

ARGS = ["train", "--dataset", "multiplication", "--dataset-option", "train_size=96",
        "--dataset-option", "test_size=16", "--dataset-option", "length=8",
        "--arch", "gru:4,dropout=0.2 dense:4 dropout:0.3", "--epochs", "5", "--batch-size", "16",
        "--validation", "0.25", "--seed", "7", "--json"]

# Runs the real CLI, but stops dead when epoch PAUSE_AT starts (so the kill lands at a
# known place: epochs 1..PAUSE_AT-1 are finished and backed up).
PAUSING_CLI = textwrap.dedent("""
    import os, sys, time
    from rnn_tui.train import render
    from rnn_tui.train.events import EpochStarted

    pause_at = int(os.environ["PAUSE_AT"])
    original = render.renderer_for

    def renderer_for(mode, stream=None):
        writer = original("json", stream)

        def handle(event):
            writer(event)
            if isinstance(event, EpochStarted) and event.epoch == pause_at:
                sys.stdout.write("PAUSED\\n")
                sys.stdout.flush()
                time.sleep(600)
        return handle

    render.renderer_for = renderer_for
    from rnn_tui.cli import main
    main(sys.argv[1:])
""")


def cli(args: list[str], timeout: int = 300) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.slow  # three trainings in subprocesses: about 35 s
def test_resume_after_sigkill_continues_at_the_next_epoch(tmp_path):
    script = tmp_path / "pausing_cli.py"
    script.write_text(PAUSING_CLI)
    env = {**os.environ, "PAUSE_AT": "3"}
    process = subprocess.Popen([sys.executable, str(script), *ARGS, "--name", "killed"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    seen = []
    try:
        for line in process.stdout:
            if line.strip() == "PAUSED":
                break
            seen.append(json.loads(line))
        else:
            raise AssertionError(f"the run ended before epoch 3: {process.stderr.read()}")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert [e["epoch"] for e in seen if e["event"] == "EpochEnded"] == [1, 2]

    home = Path(os.environ["RNN_TUI_HOME"])
    metadata = json.loads((home / "runs" / "killed" / "backup" /
                           "training_metadata.json").read_text())
    assert metadata["epoch"] == 2
    assert "killed" not in open_registries().names()

    resumed = cli([*ARGS, "--name", "killed"])
    started = next(e for e in resumed if e["event"] == "RunStarted")
    assert started["resumed_from"] == 2
    assert any(e["event"] == "Note" and "resuming from epoch 2" in e["text"] for e in resumed)
    assert [e["epoch"] for e in resumed if e["event"] == "EpochStarted"] == [3, 4, 5]
    finished = resumed[-1]
    assert finished["event"] == "RunFinished" and finished["model_ref"] == "killed:1"
    assert finished["epochs_run"] == 5
    assert not (home / "runs" / "killed").exists()

    straight = cli([*ARGS, "--name", "straight"])
    assert straight[-1]["model_ref"] == "straight:1"
    registries = open_registries()
    killed_card = registries.resolve("killed").card
    straight_card = registries.resolve("straight").card
    assert killed_card["history"] == straight_card["history"]
    assert killed_card["training"]["sessions"] == 2
    killed_weights = load_keras_model(registries.resolve("killed")).get_weights()
    straight_weights = load_keras_model(registries.resolve("straight")).get_weights()
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(killed_weights,
                                                                  straight_weights))
    assert difference <= 1e-6
