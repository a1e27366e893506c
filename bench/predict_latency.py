"""Latency of ``rnn-tui predict``, side by side with Keras: a cold one-liner, and
re-classifying per keystroke.

    python bench/predict_latency.py                       # the default LSTM and GRU models
    python bench/predict_latency.py --model imdb-sentiment --model nsmc-sentiment --runs 11

Every measure runs the tool and its peer in alternating rounds (the order reversed every
round, so a drift in the machine's load falls on both), after warm-ups on both sides, and
prints the spread: median with the interquartile range and min-max over the rounds, or
p50 / p99 over the keystrokes.

1. Cold one-liner: wall time of ``rnn-tui predict -m MODEL "a short review"`` as a whole
   process, against the same prediction made through Keras as a whole process (the same
   tokenizing, then TensorFlow imported, ``model.keras`` loaded, ``model.predict``), with
   ``python -c pass`` and ``python -c "import numpy"`` in the same rotation for scale. Two
   uncounted warm-up rounds first (they also write Python's bytecode cache, as installing a
   package does).
2. Per keystroke: a review of the model's own corpus (its card's dataset: English IMDB or
   Reuters text for the English models, NSMC's Korean reviews for nsmc-sentiment) is in a
   live session; one more character is typed; how long until the new probabilities are
   out. Sides, alternating per review: the live session (tokenizing the whole text, diffing
   the ids, the recurrent steps, pooling, the head), the runtime recomputing the text
   (``predictor.predict``), and Keras (the same tokenizing and padding, then
   ``model.predict_on_batch``, in a worker process warmed up with 20 calls: this process
   never imports TensorFlow). The first review is a warm-up for every side and is not
   counted. Keras' probabilities are checked against the live session's.
   Models that cannot stream (Bidirectional, Conv1D; random weights, so no Keras file)
   recompute on every keystroke: the compiled step loops a live session uses (numba; the
   time to compile them, or to load numba's cache, is reported apart) against NumPy's
   (``RNN_TUI_KERNELS=numpy``), alternating per review.

CPU time is the process' (Keras runs its ops on TensorFlow's threads; the runtime on one).
"""

from __future__ import annotations

import argparse
import json
import os
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
    ensure_recomputing_models,
    imdb_test_texts,
    machine,
    percentiles,
    save,
    setup_environment,
)

SHORT_REVIEW = "a short review"
BENCH = Path(__file__).resolve().parent
# The peer of the cold one-liner: the same prediction through Keras, as a whole process.
KERAS_ONE_LINER = f"""
import sys
sys.path.insert(0, {str(BENCH)!r})
from predict_throughput import keras_inputs
from rnn_tui.infer import Predictor
from rnn_tui.registry import load_keras_model
reference, text = sys.argv[1:3]
predictor = Predictor.load(reference)
inputs = keras_inputs(predictor, predictor.pad([predictor.text_ids(text)]))
print(predictor.probabilities(load_keras_model(reference).predict(inputs, verbose=0)))
"""


def spread(seconds: list[float]) -> dict:
    """Median, quartiles, min and max of a measurement's rounds."""
    q1, median, q3 = (float(v) for v in np.percentile(seconds, [25, 50, 75]))
    return {"median_s": median, "q1_s": q1, "q3_s": q3, "min_s": min(seconds),
            "max_s": max(seconds), "rounds": len(seconds)}


def wall_time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    return time.perf_counter() - start


def cold_one_liner(reference: str, runs: int, warm_ups: int = 2) -> dict:
    script = Path(sys.executable).parent / "rnn-tui"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "rnn_tui"]
    tool = base + ["predict", "-m", reference, SHORT_REVIEW]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    python = [sys.executable, "-c"]
    commands = {"rnn-tui predict": tool,
                "keras (same tokenizing, model.predict)":
                    python + [KERAS_ONE_LINER, reference, SHORT_REVIEW],
                "python -c pass": python + ["pass"],
                "python -c 'import numpy'": python + ["import numpy"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_number in range(warm_ups + runs):
        order = list(commands) if round_number % 2 == 0 else list(reversed(commands))
        for name in order:
            elapsed = wall_time(commands[name], env)
            if round_number >= warm_ups:
                times[name].append(elapsed)
    outputs = {name: subprocess.run(commands[name], env=env, capture_output=True,
                                    text=True).stdout.strip()
               for name in list(commands)[:2]}
    return {"command": " ".join(["rnn-tui"] + tool[len(base):]), "outputs": outputs,
            "warm_ups": warm_ups, "seconds": {name: spread(v) for name, v in times.items()}}


def typing_texts(predictor) -> tuple[str, list[str]]:
    """(corpus name, test texts) of the corpus the model was trained on, IMDB when the card
    names none (or one this machine does not have)."""
    from rnn_tui.data import load_corpus
    from rnn_tui.errors import RnnTuiError

    name = ((predictor.card.get("dataset") or {}).get("name")) or "imdb"
    try:
        return name, list(load_corpus(name).test.texts)
    except RnnTuiError:
        return "imdb", imdb_test_texts()[0]


def reviews_of(predictor, tokens: int, count: int, extra_chars: int,
               texts: list[str] | None = None) -> list[tuple[str, str]]:
    """(prefix of exactly ``tokens`` tokens, the characters typed after it) per review.

    Korean reviews (NSMC's are at most 140 characters, far from 100 tokens) are typed from
    their middle instead: the prefix is all but the last ``extra_chars`` characters of a
    review at least ``extra_chars + 40`` characters long, one syllable a keystroke."""
    if texts is None:
        texts, _ = imdb_test_texts()
    chosen = []
    if predictor.language == "ko":
        for text in texts:
            if len(text) >= extra_chars + 40:
                chosen.append((text[:-extra_chars], text[-extra_chars:]))
            if len(chosen) == count:
                break
        return chosen
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


class KerasWorker:
    """A process holding the Keras model: ``run(texts)`` times, per text, tokenizing,
    padding and ``model.predict_on_batch`` (this process never imports TensorFlow)."""

    def __init__(self, reference: str):
        OUT.mkdir(parents=True, exist_ok=True)
        self.log = (OUT / "keras_worker.log").open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--keras-worker", reference,
             "--home", os.environ["RNN_TUI_HOME"]],  # this process' registry, not the default
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit(f"the Keras worker failed; see {self.log.name}")

    def run(self, texts: list[str]) -> tuple[list[float], list[float], np.ndarray]:
        self.process.stdin.write(json.dumps(texts) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        return answer["wall"], answer["cpu"], np.asarray(answer["outputs"], np.float32)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.log.close()


def keras_worker(reference: str) -> None:
    """The worker's side of ``KerasWorker`` (``--keras-worker``)."""
    from predict_throughput import keras_inputs

    from rnn_tui.infer import Predictor
    from rnn_tui.registry import load_keras_model

    predictor = Predictor.load(reference)
    model = load_keras_model(reference)

    def answer(text):
        inputs = keras_inputs(predictor, predictor.pad([predictor.text_ids(text)]))
        return model.predict_on_batch(inputs)

    for _ in range(20):  # warm-up: traces the predict function
        answer("a warm-up text for the predict function")
    print("ready", flush=True)
    for line in sys.stdin:
        wall, cpu, outputs = [], [], []
        for text in json.loads(line):
            start, cpu_start = time.perf_counter(), time.process_time()
            output = answer(text)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
            outputs.append(np.asarray(output, np.float32)[0].tolist())
        print(json.dumps({"wall": wall, "cpu": cpu, "outputs": outputs}), flush=True)


def live_side(predictor, prefix: str, typed: str, steps: list[int]):
    """The live session: the prefix in it, then one update per typed character."""
    session = predictor.session()
    session.update(prefix)
    wall, cpu, outputs = [], [], []
    for count in range(1, len(typed) + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        outputs.append(session.update(prefix + typed[:count]))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        steps.append(session.steps_computed)
    return wall, cpu, np.asarray(outputs)


def recompute_side(predictor, prefix: str, typed: str):
    wall, cpu = [], []
    for count in range(1, len(typed) + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        predictor.predict([prefix + typed[:count]])
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return wall, cpu, None


def per_keystroke(reference: str, reviews: int, keystrokes: int,
                  peer: str = "keras") -> dict:
    """Sides alternating per review (the first review a warm-up for all). ``peer``:
    "keras" (streaming models: the live session, recomputing, Keras) or "numpy" (models
    that recompute: the live session with the compiled loops, then with NumPy's)."""
    from rnn_tui.infer import Predictor, kernels

    os.environ["RNN_TUI_KERNELS"] = ""
    # a live session starts compiling the step loops on a thread; wait for them here, so
    # that no compiling runs during the timed keystrokes (and time it apart)
    start = time.perf_counter()
    if kernels.warm_up(wait=True) is None and peer == "numpy":
        raise SystemExit(f"the compiled loops are unavailable: {kernels._error}")
    warm_up_s = time.perf_counter() - start
    predictor = Predictor.load(reference)
    corpus, texts = typing_texts(predictor)
    samples = reviews_of(predictor, 100, reviews + 1, keystrokes, texts)
    steps: list[int] = []
    worker = None

    def kernels_as(setting):
        def side(prefix, typed):
            os.environ["RNN_TUI_KERNELS"] = setting
            try:
                return live_side(predictor, prefix, typed, [])
            finally:
                os.environ["RNN_TUI_KERNELS"] = ""
        return side

    if peer == "keras":
        worker = KerasWorker(reference)
        sides = {"live session": lambda prefix, typed: live_side(predictor, prefix, typed,
                                                                  steps),
                 "runtime recomputing the text": lambda prefix, typed: recompute_side(
                     predictor, prefix, typed),
                 "keras predict_on_batch": lambda prefix, typed: worker.run(
                     [prefix + typed[:count] for count in range(1, len(typed) + 1)])}
    else:
        sides = {"live session, compiled loops": kernels_as(""),
                 "live session, numpy loops": kernels_as("numpy")}
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    worst = 0.0
    try:
        for index, (prefix, typed) in enumerate(samples):
            order = list(sides) if index % 2 == 0 else list(reversed(sides))
            outputs = {}
            for name in order:
                times, cpu_times, outputs[name] = sides[name](prefix, typed)
                if index > 0:  # the first review warms every side up
                    wall[name] += times
                    cpu[name] += cpu_times
            if worker is not None:
                keras = predictor.probabilities(outputs["keras predict_on_batch"])
                worst = max(worst, float(np.abs(keras - outputs["live session"]).max()))
    finally:
        if worker is not None:
            worker.close()
    prefix_tokens = [len(predictor.tokens(prefix)) for prefix, _ in samples[1:]]
    result = {"model": reference, "peer": peer, "streaming": predictor.streamable,
              "why": predictor.streaming_reason, "typed_texts": f"{corpus} test split",
              "reviews": len(samples) - 1, "keystrokes_per_review": keystrokes,
              "prefix_tokens_median": statistics.median(prefix_tokens) if prefix_tokens else 0,
              "sides": {name: {"wall": percentiles(wall[name]), "cpu": percentiles(cpu[name])}
                        for name in sides}}
    if steps:
        skipped = len(steps) - len(wall["live session"])  # the warm-up review's
        result["mean_recurrent_steps_per_keystroke"] = statistics.fmean(steps[skipped:])
    if worker is not None:
        result["keras_vs_live_max_probability_difference"] = worst
    result["compile_or_load_s"] = warm_up_s
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append",
                        help="registry model(s) to measure (default: the bench LSTM and GRU)")
    parser.add_argument("--home", help="RNN_TUI_HOME for the bench registry")
    parser.add_argument("--runs", type=int, default=11,
                        help="cold one-liner rounds (after 2 warm-up rounds)")
    parser.add_argument("--reviews", type=int, default=40)
    parser.add_argument("--keystrokes", type=int, default=25)
    parser.add_argument("--skip-recomputing-models", action="store_true")
    parser.add_argument("--keras-worker", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_environment(args.home)
    if args.keras_worker:
        keras_worker(args.keras_worker)
        return
    references = [ensure_model(ref) for ref in (args.model or list(DEFAULT_MODELS.values()))]
    results: dict = {"machine": machine(), "cold_one_liner": {}, "per_keystroke": []}
    print(f"load average at the start: {results['machine']['load_average']}")
    results["cold_one_liner"] = cold_one_liner(references[0], args.runs)
    print_cold(results["cold_one_liner"])
    for reference in references:
        entry = per_keystroke(reference, args.reviews, args.keystrokes)
        results["per_keystroke"].append(entry)
        print_keystroke(entry)
    if not args.skip_recomputing_models and not args.model:
        for reference in ensure_recomputing_models():
            entry = per_keystroke(reference, max(10, args.reviews // 3), args.keystrokes,
                                  peer="numpy")
            results["per_keystroke"].append(entry)
            print_keystroke(entry)
    results["numba_imported"] = "numba" in sys.modules
    results["tensorflow_imported"] = "tensorflow" in sys.modules
    results["load_average_at_end"] = machine()["load_average"]
    print(f"load average at the end: {results['load_average_at_end']}")
    print(f"\nsaved {save('predict_latency', results)}")


def print_cold(cold: dict) -> None:
    print(f"cold one-liner, {len(cold['seconds'])} commands in alternating rounds; "
          f"`{cold['command']}`:")
    for name, output in cold["outputs"].items():
        print(f"  {name} printed {output.splitlines()[-1] if output else ''!r}")
    for name, times in cold["seconds"].items():
        print(f"  {name}: median {times['median_s']:.3f} s (IQR {times['q1_s']:.3f}-"
              f"{times['q3_s']:.3f}, min-max {times['min_s']:.3f}-{times['max_s']:.3f}; "
              f"{times['rounds']} rounds after {cold['warm_ups']} warm-ups)")


def print_keystroke(entry: dict) -> None:
    how = "streams" if entry["streaming"] else "recomputes"
    line = (f"per keystroke, {entry['model']} ({how}; {entry['reviews']} reviews of the "
            f"{entry['typed_texts']} x {entry['keystrokes_per_review']} keystrokes, prefix "
            f"{entry['prefix_tokens_median']:.0f} tokens, sides alternating per review)")
    if entry.get("mean_recurrent_steps_per_keystroke") is not None:
        line += f"; {entry['mean_recurrent_steps_per_keystroke']:.2f} recurrent steps each"
    if entry.get("compile_or_load_s") is not None:
        line += f"; loops ready in {entry['compile_or_load_s']:.2f} s"
    print(line + ":")
    for name, side in entry["sides"].items():
        wall, cpu = side["wall"], side["cpu"]
        print(f"  {name}: p50 {wall['p50_us']:,.0f} us (IQR {wall['p25_us']:,.0f}-"
              f"{wall['p75_us']:,.0f}), p99 {wall['p99_us']:,.0f}, max {wall['max_us']:,.0f} us"
              f" over {wall['count']}; CPU p50 {cpu['p50_us']:,.0f}, p99 {cpu['p99_us']:,.0f} us")
    if "keras_vs_live_max_probability_difference" in entry:
        print(f"  parity: max |p_keras - p_live| = "
              f"{entry['keras_vs_live_max_probability_difference']:.1e}")


if __name__ == "__main__":
    main()
