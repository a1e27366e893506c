"""End to end on the real corpora: ``rnn-tui train --dataset NAME --arch lstm --epochs 2``
lands a version in the registry with a sensible test accuracy. Minutes each on a CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import require_real_corpus
from rnn_tui.registry import open_registries

CASES = {
    # corpus: (files that must exist, the least test accuracy after 2 epochs)
    "imdb": (("imdb/aclImdb_labeled.tar.gz",), 0.75),
    "nsmc": (("nsmc/ratings_train.txt", "nsmc/ratings_test.txt"), 0.75),
    "reuters": (("reuters21578/reuters21578.tar.gz",), 0.45),
}


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("corpus", list(CASES))
def test_train_lstm_on_the_real_corpus(corpus, real_data_home):
    files, least_accuracy = CASES[corpus]
    require_real_corpus(real_data_home, *files)
    done = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "train", "--dataset", corpus, "--arch", "lstm",
         "--epochs", "2", "--json"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    finished = events[-1]
    assert finished["event"] == "RunFinished" and finished["model_ref"] == f"{corpus}-lstm:1"
    version = open_registries().resolve(f"{corpus}-lstm")
    card = version.card
    assert card["training"]["epochs_run"] == 2
    assert card["metrics"]["test"]["accuracy"] >= least_accuracy
    assert version.has_file("runtime.npz") and version.has_file("vocabulary.json")
    seconds = card["training"]["epoch_seconds"]
    print(f"{corpus}: test accuracy {card['metrics']['test']['accuracy']:.4f}, "
          f"{sum(seconds) / len(seconds):.1f} s/epoch, {card['dataset']['train_size']:,} rows")
