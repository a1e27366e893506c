"""Batch throughput and parity on IMDB's 25,000 test reviews: the runtime against Keras.

    python bench/predict_throughput.py                    # the default LSTM and GRU models
    python bench/predict_throughput.py --model imdb-sentiment --limit 5000

For each model, in one process:

1. tokenizing every review with the model's vocabulary (the same work for both engines);
2. the NumPy runtime on those ids (``Predictor.predict_ids``: length-bucketed batches);
3. the same end to end from the texts (``Predictor.predict``);
4. Keras' ``model.predict`` on the same padded ids (batch 32, its default, and 256),
   after TensorFlow is imported (so step 2 and 3 ran without it);
5. parity: the largest difference in probability between the two, over every review.

Then ``rnn-tui predict --file`` on the reviews as a whole process (wall time, peak memory),
and on four times as many lines, to show memory does not grow with the input.
"""

from __future__ import annotations

import argparse
import os
import re
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


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def runtime_side(reference: str, texts: list[str]) -> dict:
    from rnn_tui.infer import Predictor

    predictor, load_s = timed(Predictor.load, reference)
    ids, tokenize_s = timed(predictor.texts_ids, texts)
    probabilities, runtime_s = timed(predictor.predict_ids, ids)
    _, end_to_end_s = timed(predictor.predict, texts)
    return {"predictor": predictor, "ids": ids, "probabilities": probabilities,
            "load_s": load_s, "tokenize_s": tokenize_s, "runtime_s": runtime_s,
            "end_to_end_s": end_to_end_s}


def keras_side(reference: str, predictor, ids) -> dict:
    from rnn_tui.registry import load_keras_model, open_registries

    version = open_registries().resolve(reference)
    model, load_s = timed(load_keras_model, version)
    padded = predictor.pad(ids)
    sample = predictor.vocabulary.encode(["a wonderful film"], maxlen=predictor.input.maxlen,
                                         padding=predictor.input.padding,
                                         truncating=predictor.input.truncating)
    assert np.array_equal(sample, predictor.pad(predictor.texts_ids(["a wonderful film"])))
    model.predict(padded[:64], verbose=0)  # build the predict function once
    results = {"load_s": load_s}
    for batch in (32, 256):
        outputs, seconds = timed(model.predict, padded, batch_size=batch, verbose=0)
        results[f"predict_batch{batch}_s"] = seconds
        results.setdefault("outputs", outputs)
    return results


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
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    setup_environment(args.home)
    references = [ensure_model(ref) for ref in (args.model or list(DEFAULT_MODELS.values()))]
    texts, labels = imdb_test_texts(args.limit)
    results: dict = {"machine": machine(), "reviews": len(texts), "models": []}
    sides = {}
    for reference in references:  # every runtime measurement before TensorFlow exists
        sides[reference] = runtime_side(reference, texts)
    assert "tensorflow" not in sys.modules
    for reference in references:
        ours = sides[reference]
        predictor = ours["predictor"]
        theirs = keras_side(reference, predictor, ours["ids"])
        keras_probabilities = as_probabilities(predictor, theirs.pop("outputs"))
        difference = np.abs(ours["probabilities"] - keras_probabilities)
        count = len(texts)
        entry = {
            "model": reference,
            "reviews_per_s": {
                "runtime (ids -> probabilities)": count / ours["runtime_s"],
                "runtime end to end (texts -> probabilities)": count / ours["end_to_end_s"],
                "keras model.predict, batch 32 (ids -> probabilities)":
                    count / theirs["predict_batch32_s"],
                "keras model.predict, batch 256": count / theirs["predict_batch256_s"],
                "keras end to end (tokenize + predict, batch 32)":
                    count / (ours["tokenize_s"] + theirs["predict_batch32_s"]),
            },
            "seconds": {"tokenize": ours["tokenize_s"], "runtime": ours["runtime_s"],
                        "runtime_end_to_end": ours["end_to_end_s"],
                        "keras_batch32": theirs["predict_batch32_s"],
                        "keras_batch256": theirs["predict_batch256_s"],
                        "runtime_load": ours["load_s"], "keras_load": theirs["load_s"]},
            "parity": {"max_abs_probability_difference": float(np.nanmax(difference)),
                       "mean_abs_probability_difference": float(np.nanmean(difference)),
                       "nan_rows_ours": int(np.isnan(ours["probabilities"]).any(1).sum()),
                       "nan_rows_keras": int(np.isnan(keras_probabilities).any(1).sum())},
            "accuracy": {
                "runtime": float(np.mean(ours["probabilities"].argmax(1) == labels)),
                "keras": float(np.mean(keras_probabilities.argmax(1) == labels))},
        }
        results["models"].append(entry)
        print_entry(entry)
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


def print_entry(entry: dict) -> None:
    print(f"{entry['model']}:")
    for what, rate in entry["reviews_per_s"].items():
        print(f"  {what}: {rate:,.0f} reviews/s")
    parity = entry["parity"]
    print(f"  parity: max |p_runtime - p_keras| = {parity['max_abs_probability_difference']:.2e}"
          f" (mean {parity['mean_abs_probability_difference']:.1e}); accuracy "
          f"{entry['accuracy']['runtime']:.4f} vs {entry['accuracy']['keras']:.4f}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
