"""Tiny corpora and helpers for the nets/train/CLI tests (imported by those test files).

Every corpus here is made with NumPy from a seed: small enough to train in a second, with a
signal a model can pick up (class words for text, the target as a function of the input for
regression).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from rnn_tui.data.corpus import Corpus, Split

FILLER = ["the", "a", "film", "movie", "plot", "actor", "scene", "story", "was", "is"]


def class_word(label: int) -> str:
    return f"w{label}"


def text_rows(n: int, classes: int, rng: np.random.Generator, length: int = 8
              ) -> tuple[list[str], np.ndarray]:
    """Texts where the label's own word appears twice among filler words."""
    labels = rng.integers(0, classes, n)
    texts = []
    for label in labels:
        words = [class_word(int(label))] * 2 + list(rng.choice(FILLER, length - 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, labels.astype(np.int64)


def text_corpus(task: str = "binary", *, classes: int | None = None, train: int = 48,
                test: int = 16, seed: int = 0, name: str = "toy") -> Corpus:
    """A text corpus for ``task``: binary, multiclass (46 classes by default) or regression
    (the target is the class number / 10)."""
    rng = np.random.default_rng(seed)
    count = classes or {"binary": 2, "multiclass": 46, "regression": 5}[task]
    train_texts, train_labels = text_rows(train, count, rng)
    test_texts, test_labels = text_rows(test, count, rng)
    if task == "regression":
        return Corpus(name, "regression", [], "en",
                      Split((train_labels / 10).astype(np.float32), texts=train_texts),
                      Split((test_labels / 10).astype(np.float32), texts=test_texts))
    names = ["negative", "positive"] if count == 2 else [f"topic{i}" for i in range(count)]
    return Corpus(name, "binary" if count == 2 else "multiclass", names, "en",
                  Split(train_labels, texts=train_texts), Split(test_labels, texts=test_texts))


def sequence_corpus(*, train: int = 48, test: int = 16, timesteps: int = 6, channels: int = 2,
                    seed: int = 0) -> Corpus:
    """Numeric sequences; the target is the mean of channel 0."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> Split:
        features = rng.random((n, timesteps, channels), dtype=np.float32)
        return Split(features[:, :, 0].mean(axis=1).astype(np.float32), features=features)

    return Corpus("toyseq", "regression", [], None, split(train), split(test))


def write_csv(path: Path, corpus: Corpus) -> Path:
    """The corpus as a CSV with text, label and split columns (``load_corpus(path)`` reads it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "split"])
        for split_name, split in (("train", corpus.train), ("test", corpus.test)):
            for text, label in zip(split.texts, split.labels):
                value = corpus.label_names[int(label)] if corpus.label_names else float(label)
                writer.writerow([text, value, split_name])
    return path


def publish_tiny(home: Path, corpus: Corpus | None = None, **settings):
    """Train and publish a tiny model into ``home``'s registry (for module-scoped fixtures,
    which cannot use the per-test RNN_TUI_HOME). Without ``corpus`` the engine loads
    ``settings["dataset"]`` itself (a CSV path, say)."""
    from rnn_tui.registry import Registries, Registry
    from rnn_tui.train import TrainConfig, train

    options = {"epochs": 2, "batch_size": 16, "maxlen": 10, **settings}
    registries = Registries(Registry(home / "models"))
    return train(TrainConfig(**options), corpus=corpus, registries=registries,
                 runs_root=home / "runs")


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """``rnn-tui ARGS`` in this process: (exit code, stdout, stderr)."""
    from rnn_tui.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def imports_tensorflow(args: list[str], env: dict[str, str]) -> bool:
    """Whether ``rnn-tui ARGS`` imports TensorFlow (run in a fresh interpreter)."""
    import subprocess
    import sys

    code = ("import sys\nfrom rnn_tui.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    assert not e.code, e.code\n"
            "print('TF' if 'tensorflow' in sys.modules else 'NO-TF')")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "TF"
