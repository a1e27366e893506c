"""What users type: sentiment models side by side on short and half-typed text.

For each model, on the same rows: accuracy on whole reviews, on the first 5/10/20/40 words
of each review (what the input box holds while a review is typed), and the failure rate of
every ``rnn-tui check`` capability; size on disk. Rows are the test split, or the reviews a
training run held out (``--split heldout``: the same rows ``--validation F --seed S`` keeps
out of training), which is what recipes are chosen on.

    RNN_TUI_DATA=../shared/datasets RNN_TUI_SHIPPED_MODELS=models \\
        python bench/short_text.py --dataset imdb imdb-sentiment
    RNN_TUI_HOME=/tmp/exp python bench/short_text.py --dataset imdb --split heldout \\
        --validation 0.1 --seed 1 imdb-base imdb-crops

The figures are deterministic (the runtime is exact and the rows are fixed): there is no
spread to print. Runs in about a minute per IMDB model on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

PREFIXES = (5, 10, 20, 40)


def rows(dataset: str, split: str, validation: float, seed: int, limit: int | None
         ) -> tuple[list[str], np.ndarray]:
    from rnn_tui.data import load_corpus
    from rnn_tui.train.prepare import validation_indices

    corpus = load_corpus(dataset)
    if split == "test":
        texts, labels = list(corpus.test.texts), np.asarray(corpus.test.labels)
    else:
        _, held_out = validation_indices(len(corpus.train), validation, seed)
        part = corpus.train.take(held_out)
        texts, labels = list(part.texts), np.asarray(part.labels)
    if limit:
        texts, labels = texts[:limit], labels[:limit]
    return texts, labels


def accuracy(predictor, texts: list[str], labels: np.ndarray) -> float:
    probabilities = predictor.predict(texts)
    positive = predictor.labels.index("positive") if "positive" in predictor.labels else 1
    guesses = np.where(np.isfinite(probabilities[:, positive]),
                       probabilities[:, positive] >= 0.5, -1)
    return float(np.mean(guesses == labels))


def measure(ref: str, texts: list[str], labels: np.ndarray) -> dict:
    from rnn_tui.check import Suite, run_check
    from rnn_tui.infer.predictor import Predictor

    predictor = Predictor.load(ref)
    started = time.perf_counter()
    figures: dict = {"model": f"{predictor.name}:{predictor.version}",
                     "whole": accuracy(predictor, texts, labels)}
    for count in PREFIXES:
        figures[f"first {count}"] = accuracy(
            predictor, [" ".join(text.split()[:count]) for text in texts], labels)
    report = run_check(predictor.predict, predictor.labels, Suite.shipped(predictor.language))
    figures["check"] = {result.name: result.failure_rate for result in report.results}
    figures["check all"] = report.failed / report.tests
    folder = Path(predictor.path) if predictor.path else None
    if folder is not None:
        figures["size_mb"] = sum(f.stat().st_size for f in folder.iterdir()
                                 if f.is_file()) / 1e6
    figures["seconds"] = time.perf_counter() - started
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model references")
    parser.add_argument("--dataset", default="imdb")
    parser.add_argument("--split", choices=("test", "heldout"), default="test")
    parser.add_argument("--validation", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, help="only the first N rows")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    texts, labels = rows(args.dataset, args.split, args.validation, args.seed, args.limit)
    print(f"{args.dataset} {args.split}: {len(texts):,} reviews")
    results = [measure(ref, texts, labels) for ref in args.models]
    columns = ["whole", *(f"first {count}" for count in PREFIXES), "check all"]
    capabilities = list(results[0]["check"])
    print(f"{'model':<28}" + "".join(f"{c:>10}" for c in columns) + f"{'MB':>7}")
    for result in results:
        print(f"{result['model']:<28}" + "".join(f"{result[c]:>10.4f}" for c in columns)
              + f"{result.get('size_mb', 0):>7.1f}")
    print("check failure rate per capability:")
    print(f"{'model':<28}" + "".join(f"{c[:10]:>11}" for c in capabilities))
    for result in results:
        print(f"{result['model']:<28}"
              + "".join(f"{result['check'][c]:>11.0%}" for c in capabilities))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
