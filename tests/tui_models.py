"""Tiny real models for the TUI tests, trained by the real engine on tiny corpora.

``train_tiny_registry(root)`` writes three small CSV corpora (English reviews, Korean
reviews, news snippets in four topics), trains an Embedding+LSTM on each with
``rnn_tui.train.engine`` in a subprocess (TensorFlow stays out of the test process), and
returns the registry folder holding ``imdb-sentiment``, ``nsmc-sentiment`` and
``reuters-topics`` (the names the workspace uses by default) and ``tiny-multiplication`` (a
sequence model). The words are chosen so that a
few epochs learn them; the models are real Keras models exported to the NumPy runtime.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

ENGLISH = {
    "positive": "wonderful brilliant superb moving delightful masterpiece loved charming".split(),
    "negative": "boring awful dull terrible waste tedious hated disappointing".split(),
}
ENGLISH_FILLER = "the film movie story acting plot was and a it this".split()
KOREAN = {
    "positive": "재미있다 최고 감동 훌륭하다 추천 명작 웃기다 좋았다".split(),
    "negative": "지루하다 최악 실망 아깝다 졸리다 별로 유치하다 짜증".split(),
}
KOREAN_FILLER = "영화 배우 연기 정말 너무 스토리 그냥 이".split()
TOPICS = {
    "earn": "profit dividend quarter net earnings revenue".split(),
    "grain": "wheat corn harvest tonnes crop export".split(),
    "crude": "oil barrel opec refinery crude petroleum".split(),
    "acq": "merger acquire takeover stake bid shareholders".split(),
}
TOPIC_FILLER = "the company said in a year for its and".split()

TRAINER = textwrap.dedent("""
    import sys
    from rnn_tui.train.config import TrainConfig
    from rnn_tui.train.engine import train

    for name, path in zip(sys.argv[1::2], sys.argv[2::2]):
        config = TrainConfig(dataset=path, dataset_options={"text_col": "text",
                             "label_col": "label"}, arch="emb:16 lstm:16", epochs=12,
                             batch_size=32, name=name, validation=0.2)
        train(config)
    # a numeric-sequence model, which reads no text
    train(TrainConfig(dataset="multiplication", dataset_options={"train_size": 128},
                      arch="gru:4", epochs=1, name="tiny-multiplication"))
""")


def _write_corpus(path: Path, pools: dict[str, list[str]], filler: list[str], rows: int,
                  seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for _ in range(rows):
            label = rng.choice(sorted(pools))
            words = rng.sample(filler, 4) + rng.sample(pools[label], 2)
            rng.shuffle(words)
            writer.writerow([" ".join(words), label])
    return path


def train_tiny_registry(root: Path) -> Path:
    """Train the three tiny models under ``root``; returns their registry folder."""
    root.mkdir(parents=True, exist_ok=True)
    corpora = {
        "imdb-sentiment": _write_corpus(root / "english.csv", ENGLISH, ENGLISH_FILLER, 400, 1),
        "nsmc-sentiment": _write_corpus(root / "korean.csv", KOREAN, KOREAN_FILLER, 400, 2),
        "reuters-topics": _write_corpus(root / "topics.csv", TOPICS, TOPIC_FILLER, 400, 3),
    }
    environment = dict(os.environ, RNN_TUI_HOME=str(root / "home"))
    arguments = [item for name, path in corpora.items() for item in (name, str(path))]
    subprocess.run([sys.executable, "-c", TRAINER, *arguments], env=environment, check=True,
                   capture_output=True, timeout=600)
    return root / "home" / "models"
