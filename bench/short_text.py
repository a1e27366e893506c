"""What users type: sentiment models side by side on short and half-typed text.

For each model, on the same rows: accuracy on whole reviews, on the first 5/10/20/40 words
of each review (what the input box holds while a review is typed), and the failure rate of
every ``rnn-tui check`` capability; size on disk; the CPU time per keystroke in a live
session (reviews typed character by character, the models alternating review by review)
and of a cold ``rnn-tui predict`` process (alternating, after a warm-up of each); the
training time from the card. Rows are the test split, or the reviews a training run held
out (``--split heldout``: the same rows ``--validation F --seed S`` keeps out of training),
which is what recipes are chosen on.

``--baseline MODEL`` adds the yardstick: the linear channel alone (the naive-Bayes-weighted
logistic regression of ``rnn_tui.train.linear``) fitted on MODEL's vocabularies and the
whole training split, C from ``--baseline-c``.

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
    from rnn_tui.check.runner import polarity_indices

    probabilities = predictor.predict(texts)
    positive = polarity_indices(predictor.labels)[0]
    guesses = np.where(np.isfinite(probabilities[:, positive]),
                       probabilities[:, positive] >= 0.5, -1)
    return float(np.mean(guesses == labels))


def keystrokes(predictors: dict, texts: list[str], chars: int) -> dict[str, list[float]]:
    """CPU seconds per keystroke of each model's live session, alternating review by review
    (and which model goes first), after one warm-up review each."""
    times: dict[str, list[float]] = {ref: [] for ref in predictors}
    refs = list(predictors)
    for index, text in enumerate(texts):
        order = refs if index % 2 == 0 else refs[::-1]
        for ref in order:
            session = predictors[ref].session()
            for end in range(1, min(len(text), chars) + 1):
                started = time.process_time()
                session.update(text[:end])
                if index > 0:  # review 0 is the warm-up
                    times[ref].append(time.process_time() - started)
    return times


def cold_predicts(refs: list[str], rounds: int) -> dict[str, list[float]]:
    """CPU seconds (user + system) of a whole ``rnn-tui predict -m REF`` process."""
    import resource
    import subprocess

    cpu: dict[str, list[float]] = {ref: [] for ref in refs}
    for index in range(rounds + 1):
        for ref in (refs if index % 2 == 0 else refs[::-1]):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "rnn_tui", "predict", "-m", ref,
                            "a short review"], check=True, capture_output=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if index > 0:  # round 0 warms the caches
                cpu[ref].append(after.ru_utime + after.ru_stime - before.ru_utime
                                - before.ru_stime)
    return cpu


def baseline(ref: str, texts: list[str], labels: np.ndarray, c: float) -> dict:
    """The linear channel alone, fitted on the model's vocabularies and training split."""
    import scipy.special

    from rnn_tui.check import Suite, run_check
    from rnn_tui.data import load_corpus
    from rnn_tui.infer.predictor import Predictor
    from rnn_tui.train.linear import fit_linear, mean_id_matrix

    predictor = Predictor.load(ref)
    features, spec = predictor.features, predictor.input
    corpus = load_corpus(predictor.card["dataset"]["name"])
    started = time.perf_counter()

    def encode(items: list[str]) -> np.ndarray:
        ids = features.encode(items, maxlen=spec.maxlen, padding=spec.padding,
                              truncating=spec.truncating)
        return ids if ids.ndim == 3 else ids[:, :, None]

    fit = fit_linear(encode(list(corpus.train.texts)), np.asarray(corpus.train.labels),
                     features.sizes, c=c, seed=1)
    seconds = time.perf_counter() - started
    weights = np.concatenate(fit.weights)

    def predict(items: list[str]) -> np.ndarray:
        logits = mean_id_matrix(encode(items), features.sizes) @ weights + fit.intercept
        positive = scipy.special.expit(logits)
        empty = np.array([not features.tokenize(item) for item in items])
        positive[empty] = np.nan
        return np.stack([1 - positive, positive], axis=1)

    def accuracy_of(items: list[str]) -> float:
        return float(np.mean((predict(items)[:, 1] >= 0.5) == labels))

    figures: dict = {"model": f"NB-LR ({ref} ids, C={c:g})", "whole": accuracy_of(texts),
                     "train_s": seconds,
                     "size_mb": 4 * weights.size / 1e6}  # two float16 copies, as shipped
    for count in PREFIXES:
        figures[f"first {count}"] = accuracy_of([" ".join(t.split()[:count]) for t in texts])
    report = run_check(predict, ["negative", "positive"], Suite.shipped(predictor.language))
    figures["check"] = {result.name: result.failure_rate for result in report.results}
    figures["check all"] = report.failed / report.tests
    return figures


def measure(ref: str, texts: list[str], labels: np.ndarray) -> dict:
    from rnn_tui.check import Suite, run_check
    from rnn_tui.infer.predictor import Predictor

    predictor = Predictor.load(ref)
    started = time.perf_counter()
    label = ref if "/" in ref else f"{predictor.name}:{predictor.version}"
    figures: dict = {"model": label[-27:],
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
    figures["train_s"] = (predictor.card.get("training") or {}).get("duration_s")
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
    parser.add_argument("--baseline", metavar="MODEL",
                        help="add the NB-LR yardstick on MODEL's vocabularies")
    parser.add_argument("--baseline-c", type=float, default=1000.0)
    parser.add_argument("--typed", type=int, default=30,
                        help="reviews typed per model for the keystroke figures (0: none)")
    parser.add_argument("--cold", type=int, default=5,
                        help="cold predict processes per model (0: none)")
    args = parser.parse_args(argv)
    texts, labels = rows(args.dataset, args.split, args.validation, args.seed, args.limit)
    print(f"{args.dataset} {args.split}: {len(texts):,} reviews")
    results = [measure(ref, texts, labels) for ref in args.models]
    if args.baseline:
        results.append(baseline(args.baseline, texts, labels, args.baseline_c))
    if args.typed:
        from rnn_tui.infer.predictor import Predictor

        typed = keystrokes({ref: Predictor.load(ref) for ref in args.models},
                           texts[:args.typed + 1], chars=200)
        print(f"keystroke -> verdict, CPU time, {args.typed} reviews typed (200 characters "
              "each), models alternating:")
        for ref, seconds in typed.items():
            q = np.percentile(np.asarray(seconds) * 1e6, [25, 50, 75, 99])
            print(f"  {ref[-26:]:<26} p50 {q[1]:7.0f} us  p99 {q[3]:7.0f} us  "
                  f"(IQR {q[0]:.0f}-{q[2]:.0f} us, {len(seconds):,} keystrokes)")
    if args.cold:
        cold = cold_predicts(args.models, args.cold)
        print(f"cold `rnn-tui predict`, CPU time of the process, {args.cold} runs each "
              "(after a warm-up), alternating:")
        for ref, seconds in cold.items():
            print(f"  {ref[-26:]:<26} median {np.median(seconds):.3f} s  "
                  f"(min {min(seconds):.3f}, max {max(seconds):.3f})")
    columns = ["whole", *(f"first {count}" for count in PREFIXES), "check all"]
    capabilities = list(results[0]["check"])
    print(f"{'model':<28}" + "".join(f"{c:>10}" for c in columns) + f"{'MB':>7}"
          + f"{'train s':>9}")
    for result in results:
        print(f"{result['model']:<28}" + "".join(f"{result[c]:>10.4f}" for c in columns)
              + f"{result.get('size_mb', 0):>7.1f}" + f"{result.get('train_s') or 0:>9.0f}")
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
