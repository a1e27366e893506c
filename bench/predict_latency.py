"""Latency of ``rnn-tui predict``: a cold one-liner, and re-classifying per keystroke.

    python bench/predict_latency.py                       # the default LSTM and GRU models
    python bench/predict_latency.py --model imdb-sentiment --runs 31

1. Cold one-liner: wall time of ``rnn-tui predict "a short review"`` as a whole process,
   median over runs (after one warm-up that writes Python's bytecode cache, as any
   installed package has it; also measured without the cache). For scale: a bare
   ``import tensorflow`` in the same interpreter.
2. Per keystroke: a 100-token IMDB review is in the live session; one more character is
   typed; how long until the new probabilities are out (tokenizing the whole text, diffing
   the ids, the recurrent steps, pooling, the head). p50 / p99 over many keystrokes of many
   reviews. Also: the same keystrokes recomputed from scratch (``predictor.predict``) to
   show what streaming saves, and models that cannot stream (Bidirectional, Conv1D), which
   recompute on every keystroke: with the compiled step loops a live session uses (numba;
   the time to compile them, or to load numba's cache, is reported apart) and with NumPy's
   (``RNN_TUI_KERNELS=numpy``), in the same run.

This process never imports TensorFlow (models missing from the bench registry are made in
subprocesses).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from predict_common import (  # noqa: E402
    DEFAULT_MODELS,
    ensure_model,
    ensure_recomputing_models,
    imdb_test_texts,
    machine,
    percentiles,
    save,
    setup_environment,
)

SHORT_REVIEW = "a short review"


def wall_times(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.perf_counter() - start)
    return times


def cold_one_liner(reference: str, runs: int) -> dict:
    script = Path(sys.executable).parent / "rnn-tui"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "rnn_tui"]
    command = base + ["predict", "-m", reference, SHORT_REVIEW]
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    wall_times(command, 2, cached)  # writes the bytecode cache, as installing does
    with_cache = wall_times(command, runs, cached)
    python = [sys.executable, "-c"]
    context = {
        "python -c pass": statistics.median(wall_times(python + ["pass"], 5, cached)),
        "import numpy": statistics.median(wall_times(python + ["import numpy"], 5, cached)),
        "import tensorflow": statistics.median(
            wall_times(python + ["import tensorflow"], 3, dict(cached, TF_CPP_MIN_LOG_LEVEL="3"))),
    }
    output = subprocess.run(command, env=cached, capture_output=True, text=True).stdout.strip()
    return {"command": " ".join(["rnn-tui"] + command[len(base):]), "output": output,
            "median_s": statistics.median(with_cache), "min_s": min(with_cache),
            "max_s": max(with_cache), "runs": runs, "context_median_s": context}


def reviews_of(predictor, tokens: int, count: int, extra_chars: int) -> list[tuple[str, str]]:
    """(prefix of exactly ``tokens`` tokens, the characters typed after it) per review."""
    texts, _ = imdb_test_texts()
    chosen = []
    for text in texts:
        words = text.split(" ")
        if len(words) < tokens + 40:
            continue
        # grow the prefix word by word until the vocabulary counts ``tokens`` tokens
        low, high = 1, len(words)
        while low < high:
            middle = (low + high) // 2
            if len(predictor.tokens(" ".join(words[:middle]))) < tokens:
                low = middle + 1
            else:
                high = middle
        prefix = " ".join(words[:low])
        if len(predictor.tokens(prefix)) != tokens:
            continue
        rest = text[len(prefix): len(prefix) + extra_chars]
        if len(rest) == extra_chars:
            chosen.append((prefix, rest))
        if len(chosen) == count:
            break
    return chosen


def per_keystroke(reference: str, reviews: int, keystrokes: int, recompute: bool,
                  engine: str | None = None) -> dict:
    """``engine``, for a model that recomputes: "compiled" (numba loops, waited for) or
    "numpy" (RNN_TUI_KERNELS=numpy)."""
    from rnn_tui.infer import Predictor, kernels

    os.environ["RNN_TUI_KERNELS"] = "numpy" if engine == "numpy" else ""
    warm_up_s = None
    if engine == "compiled":
        start = time.perf_counter()
        if kernels.warm_up(wait=True) is None:
            raise SystemExit(f"the compiled loops are unavailable: {kernels._error}")
        warm_up_s = time.perf_counter() - start
    predictor = Predictor.load(reference)
    samples = reviews_of(predictor, 100, reviews, keystrokes)
    streaming, scratch, steps, cpu = [], [], [], []
    clock = time.perf_counter
    for prefix, typed in samples:
        session = predictor.session()
        session.update(prefix)
        for count in range(1, keystrokes + 1):
            text = prefix + typed[:count]
            start, cpu_start = clock(), time.thread_time()
            session.update(text)
            streaming.append(clock() - start)
            cpu.append(time.thread_time() - cpu_start)
            steps.append(session.steps_computed)
            if recompute:
                start = clock()
                predictor.predict([text])
                scratch.append(clock() - start)
    result = {"model": reference, "engine": engine, "streaming": predictor.streamable,
              "why": predictor.streaming_reason, "reviews": len(samples),
              "keystrokes_per_review": keystrokes,
              "live_session": percentiles(streaming),
              "mean_recurrent_steps_per_keystroke": sum(steps) / len(steps),
              "cpu_time": percentiles(cpu)}
    if scratch:
        result["recompute_each_time"] = percentiles(scratch)
    if warm_up_s is not None:
        result["compile_or_load_s"] = warm_up_s
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append",
                        help="registry model(s) to measure (default: the bench LSTM and GRU)")
    parser.add_argument("--home", help="RNN_TUI_HOME for the bench registry")
    parser.add_argument("--runs", type=int, default=21, help="cold one-liner runs")
    parser.add_argument("--reviews", type=int, default=60)
    parser.add_argument("--keystrokes", type=int, default=25)
    parser.add_argument("--skip-recomputing-models", action="store_true")
    args = parser.parse_args()
    setup_environment(args.home)
    references = [ensure_model(ref) for ref in (args.model or list(DEFAULT_MODELS.values()))]
    results: dict = {"machine": machine(), "cold_one_liner": {}, "per_keystroke": []}
    results["cold_one_liner"] = cold_one_liner(references[0], args.runs)
    print_cold(results["cold_one_liner"])
    for reference in references:
        entry = per_keystroke(reference, args.reviews, args.keystrokes, recompute=True)
        results["per_keystroke"].append(entry)
        print_keystroke(entry)
    if not args.skip_recomputing_models and not args.model:
        # the compiled loops first: their first use in this process compiles (or loads
        # numba's cache), timed apart from the keystrokes
        for engine in ("compiled", "numpy"):
            for reference in ensure_recomputing_models():
                entry = per_keystroke(reference, max(10, args.reviews // 3), args.keystrokes,
                                      recompute=False, engine=engine)
                results["per_keystroke"].append(entry)
                print_keystroke(entry)
    results["numba_imported"] = "numba" in sys.modules
    import_check = "tensorflow" in sys.modules
    results["tensorflow_imported"] = import_check
    print(f"\nsaved {save('predict_latency', results)}")


def print_cold(cold: dict) -> None:
    print(f"cold one-liner: `{cold['command']}` -> {cold['output']!r}")
    print(f"  median {cold['median_s']:.3f} s (min {cold['min_s']:.3f}, max "
          f"{cold['max_s']:.3f}, {cold['runs']} runs)")
    context = ", ".join(f"{k} {v:.3f} s" for k, v in cold["context_median_s"].items())
    print(f"  for scale: {context}")


def print_keystroke(entry: dict) -> None:
    live = entry["live_session"]
    how = "streams" if entry["streaming"] else f"recomputes, {entry['engine']} loops"
    cpu = entry["cpu_time"]
    line = (f"per keystroke, {entry['model']} ({how}): p50 {live['p50_us']:.0f} us, p99 "
            f"{live['p99_us']:.0f} us, max {live['max_us']:.0f} us over {live['count']} "
            f"keystrokes (CPU time p50 {cpu['p50_us']:.0f}, p99 {cpu['p99_us']:.0f} us)")
    if entry.get("compile_or_load_s") is not None:
        line += f"; loops ready in {entry['compile_or_load_s']:.2f} s"
    if entry["streaming"]:
        line += (f"; {entry['mean_recurrent_steps_per_keystroke']:.2f} recurrent steps per "
                 "keystroke")
    print(line)
    if "recompute_each_time" in entry:
        scratch = entry["recompute_each_time"]
        print(f"  recomputing the whole text instead: p50 {scratch['p50_us']:.0f} us, p99 "
              f"{scratch['p99_us']:.0f} us")


if __name__ == "__main__":
    main()
