"""Batch throughput and parity on IMDB's 25,000 test reviews: the runtime against Keras.

    python bench/predict_throughput.py                    # the default LSTM and GRU models
    python bench/predict_throughput.py --model imdb-sentiment --limit 5000 --rounds 7

``--model`` takes any model of the bench registry or the shipped ones (imdb-sentiment, with
its token and n-gram inputs). For each model, in one process:

1. tokenizing every review with the model's vocabulary (the same work for both engines),
   and a warm-up of the NumPy runtime, before TensorFlow is imported;
2. Keras' model loaded and warmed up (its predict function built for each batch size);
3. alternating rounds, the order reversed each round: the runtime on the ids
   (``Predictor.predict_ids``: length-bucketed batches), the runtime end to end from the
   texts (``Predictor.predict``), Keras' ``model.predict`` on the same padded ids (batch 32,
   its default, and 256); the median round and the range over the rounds are printed;
4. parity: the largest difference in probability between the two, over every review.

Then ``rnn-tui predict --file`` on the reviews as a whole process (wall time, peak memory),
and on four times as many lines, to show memory does not grow with the input.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from predict_common import (  # noqa: E402
    DEFAULT_MODELS,
    OUT,
    ensure_model,
    imdb_test_texts,
    machine,
    save,
    setup_environment,
)

BATCHES = (32, 256)
WARM_UP_ROWS = 256


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def spread(seconds: list[float]) -> dict:
    """Median, min and max of a measurement's rounds."""
    return {"median_s": statistics.median(seconds), "min_s": min(seconds),
            "max_s": max(seconds), "rounds": len(seconds)}


def runtime_side(reference: str, texts: list[str]) -> dict:
    """Load, tokenize, and warm the runtime up (before TensorFlow is imported)."""
    from rnn_tui.infer import Predictor

    predictor, load_s = timed(Predictor.load, reference)
    ids, tokenize_s = timed(predictor.texts_ids, texts)
    predictor.predict_ids(ids[:WARM_UP_ROWS])  # warm-up: first calls compile and allocate
    predictor.predict(texts[:WARM_UP_ROWS])
    return {"predictor": predictor, "ids": ids, "load_s": load_s, "tokenize_s": tokenize_s}


def keras_inputs(predictor, padded: np.ndarray):
    """What the Keras model takes: the padded ids, or one array per input stream (a model
    with n-gram features has inputs tokens, ngrams2, ...)."""
    if padded.ndim == 2:
        return padded
    return {name: padded[:, :, column] for column, name in enumerate(predictor.features.names)}


def keras_side(reference: str, predictor, ids) -> dict:
    """Load the Keras model, check it is fed what training fed it, and warm it up."""
    from rnn_tui.registry import load_keras_model, open_registries

    version = open_registries().resolve(reference)
    model, load_s = timed(load_keras_model, version)
    padded = predictor.pad(ids)
    sample = predictor.features.encode(["a wonderful film"], maxlen=predictor.input.maxlen,
                                       padding=predictor.input.padding,
                                       truncating=predictor.input.truncating)
    assert np.array_equal(sample, predictor.pad(predictor.texts_ids(["a wonderful film"])))
    inputs = keras_inputs(predictor, padded)
    head = keras_inputs(predictor, padded[:WARM_UP_ROWS])
    for batch in BATCHES:  # warm-up: builds the predict function for each batch size
        model.predict(head, batch_size=batch, verbose=0)
    return {"model": model, "inputs": inputs, "load_s": load_s}


def measure(ours: dict, theirs: dict, texts: list[str], rounds: int) -> dict:
    """Alternating rounds: the engines run in turn, the order reversed every round, so a
    drift in the machine's load falls on both sides alike."""
    predictor, model, inputs = ours["predictor"], theirs["model"], theirs["inputs"]
    steps = {
        "runtime": lambda: predictor.predict_ids(ours["ids"]),
        "runtime_end_to_end": lambda: predictor.predict(texts),
        **{f"keras_batch{batch}": (lambda batch=batch: model.predict(
            inputs, batch_size=batch, verbose=0)) for batch in BATCHES},
    }
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    outputs = {}
    for round_number in range(rounds):
        order = list(steps) if round_number % 2 == 0 else list(reversed(steps))
        for name in order:
            outputs[name], elapsed = timed(steps[name])
            seconds[name].append(elapsed)
    return {"seconds": seconds, "ours": outputs["runtime"],
            "keras": outputs[f"keras_batch{BATCHES[0]}"]}


def as_probabilities(predictor, outputs: np.ndarray) -> np.ndarray:
    return predictor.probabilities(np.asarray(outputs, np.float32))


def cli_run(reference: str, path: Path) -> dict:
    """``rnn-tui predict --file`` as a process: wall time and peak memory (GNU time)."""
    script = Path(sys.executable).parent / "rnn-tui"
    command = ["/usr/bin/time", "-f", "%e %M", str(script), "predict", "-m", reference,
               "--file", str(path), "--format", "jsonl"]
    process = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    last = process.stderr.strip().splitlines()[-1]
    seconds, kilobytes = last.split()
    return {"exit_code": process.returncode, "wall_s": float(seconds),
            "peak_rss_mb": int(kilobytes) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append",
                        help="registry model(s) (default: the bench LSTM and GRU)")
    parser.add_argument("--home", help="RNN_TUI_HOME for the bench registry")
    parser.add_argument("--limit", type=int, help="use only the first N test reviews")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating timed rounds per engine (after one warm-up each)")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    setup_environment(args.home)
    references = [ensure_model(ref) for ref in (args.model or list(DEFAULT_MODELS.values()))]
    texts, labels = imdb_test_texts(args.limit)
    results: dict = {"machine": machine(), "reviews": len(texts), "models": []}
    sides = {}
    for reference in references:  # the runtime loads and warms up before TensorFlow exists
        sides[reference] = runtime_side(reference, texts)
    assert "tensorflow" not in sys.modules
    for reference in references:
        ours = sides[reference]
        predictor = ours["predictor"]
        theirs = keras_side(reference, predictor, ours["ids"])
        measured = measure(ours, theirs, texts, args.rounds)
        ours_probabilities = measured["ours"]
        keras_probabilities = as_probabilities(predictor, measured["keras"])
        difference = np.abs(ours_probabilities - keras_probabilities)
        count = len(texts)
        rounds = {name: spread(values) for name, values in measured["seconds"].items()}
        tokenize_s = ours["tokenize_s"]
        entry = {
            "model": reference,
            "rounds": args.rounds,
            "seconds": rounds,
            "reviews_per_s_median": {
                "runtime (ids -> probabilities)": count / rounds["runtime"]["median_s"],
                "runtime end to end (texts -> probabilities)":
                    count / rounds["runtime_end_to_end"]["median_s"],
                **{f"keras model.predict, batch {batch} (ids -> probabilities)":
                   count / rounds[f"keras_batch{batch}"]["median_s"] for batch in BATCHES},
                f"keras end to end (tokenize + predict, batch {BATCHES[0]})":
                    count / (tokenize_s + rounds[f"keras_batch{BATCHES[0]}"]["median_s"]),
            },
            "once": {"tokenize_s": tokenize_s, "runtime_load_s": ours["load_s"],
                     "keras_load_s": theirs["load_s"]},
            "parity": {"max_abs_probability_difference": float(np.nanmax(difference)),
                       "mean_abs_probability_difference": float(np.nanmean(difference)),
                       "nan_rows_ours": int(np.isnan(ours_probabilities).any(1).sum()),
                       "nan_rows_keras": int(np.isnan(keras_probabilities).any(1).sum())},
            "accuracy": {
                "runtime": float(np.mean(ours_probabilities.argmax(1) == labels)),
                "keras": float(np.mean(keras_probabilities.argmax(1) == labels))},
        }
        results["models"].append(entry)
        print_entry(entry, count)
    if not args.skip_cli:
        path = OUT / "imdb_test_reviews.txt"
        lines = [re.sub(r"[\r\n]+", " ", text) for text in texts]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        big = OUT / "imdb_test_reviews_x4.txt"
        big.write_text("\n".join(lines * 4) + "\n", encoding="utf-8")
        results["cli"] = {"lines": len(lines), "file_mb": path.stat().st_size / 1e6,
                          "once": cli_run(references[0], path),
                          "four_times": cli_run(references[0], big)}
        cli = results["cli"]
        print(f"rnn-tui predict --file ({len(lines):,} reviews, {cli['file_mb']:.1f} MB): "
              f"{cli['once']['wall_s']:.1f} s, peak {cli['once']['peak_rss_mb']:.0f} MB; "
              f"4x the lines: {cli['four_times']['wall_s']:.1f} s, peak "
              f"{cli['four_times']['peak_rss_mb']:.0f} MB")
        big.unlink()
    print(f"\nsaved {save('predict_throughput', results)}")


def print_entry(entry: dict, count: int) -> None:
    """Reviews/s at the median round, with the rounds' range (min-max) beside it."""
    print(f"{entry['model']} ({entry['rounds']} alternating rounds after warm-ups; "
          f"reviews/s: median [slowest-fastest round]):")
    names = {"runtime": "runtime (ids -> probabilities)",
             "runtime_end_to_end": "runtime end to end (texts -> probabilities)",
             **{f"keras_batch{batch}": f"keras model.predict, batch {batch}"
                for batch in BATCHES}}
    for key, label in names.items():
        times = entry["seconds"][key]
        print(f"  {label}: {count / times['median_s']:,.0f} "
              f"[{count / times['max_s']:,.0f}-{count / times['min_s']:,.0f}]")
    parity = entry["parity"]
    print(f"  parity: max |p_runtime - p_keras| = {parity['max_abs_probability_difference']:.2e}"
          f" (mean {parity['mean_abs_probability_difference']:.1e}); accuracy "
          f"{entry['accuracy']['runtime']:.4f} vs {entry['accuracy']['keras']:.4f}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
