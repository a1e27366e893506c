"""What the predict benchmarks share: their registry, the models, IMDB's test reviews.

The benchmarks run against a registry under ``bench/out/home`` (ignored by git) unless
``--home`` or ``$RNN_TUI_HOME`` says otherwise. Their default models are LSTM and GRU "of
the shipped size": Embedding(20000, 128) + LSTM/GRU(128) + max and mean pooling + Dense,
post padding with a mask, maxlen 400, trained by ``rnn-tui train`` for one epoch on 6,000
IMDB reviews (enough for realistic weights; accuracy is not the point here). Any registry
model can be named instead (``--model imdb-sentiment``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEFAULT_HOME = OUT / "home"
SHIPPED = ROOT / "models"
DEFAULT_MODELS = {"lstm": "bench-imdb-lstm", "gru": "bench-imdb-gru"}


def find_datasets() -> Path | None:
    """``shared/datasets`` beside the checkout or beside any folder above it (a worktree or
    a clone may sit deeper than the main checkout), or None."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return None


def setup_environment(home: str | None = None) -> Path:
    """Point rnn-tui at the bench registry, the corpora and the shipped models (before
    importing rnn_tui). Paths are made absolute: the benchmarks start children (tmux panes,
    training runs) that must find the same folders from any working directory."""
    home_path = Path(home or os.environ.get("RNN_TUI_BENCH_HOME") or DEFAULT_HOME).resolve()
    home_path.mkdir(parents=True, exist_ok=True)
    os.environ["RNN_TUI_HOME"] = str(home_path)
    given = os.environ.get("RNN_TUI_DATA")
    datasets = Path(given).expanduser().resolve() if given else find_datasets()
    if datasets is not None:
        os.environ["RNN_TUI_DATA"] = str(datasets)
    # The shipped models (imdb-sentiment, ...) can be named with --model; the bench
    # registry is searched first.
    shipped = os.environ.get("RNN_TUI_SHIPPED_MODELS")
    if shipped is None:
        os.environ["RNN_TUI_SHIPPED_MODELS"] = str(SHIPPED)
    elif shipped:
        os.environ["RNN_TUI_SHIPPED_MODELS"] = str(Path(shipped).expanduser().resolve())
    return home_path


def train_command(arch: str) -> list[str]:
    """The ``rnn-tui train`` call that makes a default benchmark model."""
    return [sys.executable, "-m", "rnn_tui", "train", "--dataset", "imdb", "--arch", arch,
            "--units", "128", "--embedding-dim", "128", "--pool", "max+average",
            "--num-words", "20000", "--maxlen", "400", "--padding", "post",
            "--truncating", "pre", "--cleaner", "html", "--epochs", "1",
            "--train-limit", "6000", "--validation", "none", "--name", DEFAULT_MODELS[arch],
            "--plain"]


def ensure_model(reference: str) -> str:
    """The reference, training a default benchmark model first if it is missing."""
    from rnn_tui.errors import NotFoundError
    from rnn_tui.registry import open_registries

    try:
        open_registries().resolve(reference)
        return reference
    except NotFoundError:
        arch = {name: arch for arch, name in DEFAULT_MODELS.items()}.get(reference)
        if arch is None:
            raise
    print(f"training {reference} (one epoch on 6,000 IMDB reviews, a few minutes)...",
          file=sys.stderr)
    subprocess.run(train_command(arch), check=True, stdout=subprocess.DEVNULL)
    return reference


def imdb_test_texts(limit: int | None = None) -> tuple[list[str], np.ndarray]:
    """IMDB's test reviews (24,996 in the offline copy) and labels."""
    from rnn_tui.data import load_corpus
    from rnn_tui.errors import RnnTuiError

    try:
        corpus = load_corpus("imdb")
    except RnnTuiError as error:
        raise SystemExit(f"the IMDB corpus is needed ({error}); looked in "
                         f"{os.environ.get('RNN_TUI_DATA') or 'shared/datasets above ' + str(ROOT)}"
                         ": set RNN_TUI_DATA to the folder holding imdb/") from None
    texts, labels = corpus.test.texts, corpus.test.labels
    if limit is not None:
        texts, labels = texts[:limit], labels[:limit]
    return list(texts), np.asarray(labels)


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p25 / p50 / p75 / p90 / p99 / max in microseconds."""
    values = np.asarray(seconds) * 1e6
    return {"p25_us": float(np.percentile(values, 25)), "p75_us": float(np.percentile(values, 75)),
            "p50_us": float(np.percentile(values, 50)), "p90_us": float(np.percentile(values, 90)),
            "p99_us": float(np.percentile(values, 99)), "max_us": float(values.max()),
            "count": int(values.size)}


def machine() -> dict[str, object]:
    """Where the figures come from."""
    import platform

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(), "numpy": np.__version__,
            "load_average": [round(x, 2) for x in load] if load else None}


def save(name: str, results: dict) -> Path:
    """Keep the figures as JSON beside the other benchmark outputs."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


RECOMPUTING = {"bench-imdb-bilstm": ("bilstm", {"units": 64, "embedding_dim": 128}),
               "bench-imdb-conv-lstm": ("conv-lstm", {"units": 100, "embedding_dim": 128})}
_MAKE_RANDOM = """
import shutil, sys
from rnn_tui.registry import open_registries
from rnn_tui.nets import ModelInput, build_model, named_spec
from rnn_tui.infer.export import export_runtime
from rnn_tui.text import Vocabulary

name, arch, units, dim = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
registries = open_registries()
base = registries.resolve("bench-imdb-lstm")
card = base.card
vocabulary = Vocabulary.load(base.file("vocabulary.json"))
spec = named_spec(arch, units=units, embedding_dim=dim)
model = build_model(spec, ModelInput.tokens(card["input"]["maxlen"], vocabulary.size),
                    task="binary", padding=card["input"]["padding"])

def build(folder):
    shutil.copyfile(base.file("vocabulary.json"), folder / "vocabulary.json")
    runtime = export_runtime(model, folder / "runtime.npz")
    return {"task": "binary", "labels": card["labels"], "language": "en",
            "input": card["input"], "runtime": runtime,
            "notes": ["random weights: a latency benchmark model"]}

registries.publish(name, build)
"""


def ensure_recomputing_models() -> list[str]:
    """Bidirectional and Conv1D models of the shipped size (random weights, the bench LSTM's
    vocabulary), made in a subprocess with Keras if missing."""
    from rnn_tui.errors import NotFoundError
    from rnn_tui.registry import open_registries

    ensure_model(DEFAULT_MODELS["lstm"])
    made = []
    for name, (arch, options) in RECOMPUTING.items():
        try:
            open_registries().resolve(name)
        except NotFoundError:
            subprocess.run([sys.executable, "-c", _MAKE_RANDOM, name, arch,
                            str(options["units"]), str(options["embedding_dim"])], check=True)
        made.append(name)
    return made
