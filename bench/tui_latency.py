"""The workspace's speed in a real terminal: time to first paint, keystroke to verdict.

    .venv/bin/python bench/tui_latency.py                 # shipped-size models, ~5 minutes
    .venv/bin/python bench/tui_latency.py --paint-runs 5 --reviews 4

Everything runs in tmux (80x24, UTF-8), as a user would see it:

1. First paint. ``rnn-tui`` is started in a fresh tmux pane; two clocks stop: the app's own
   report that its first screen has been drawn (``RnnTuiApp(on_first_paint=...)``, measured
   from the moment the parent launched the process), and the parent polling
   ``tmux capture-pane`` until the footer is on the screen. Median and max over the runs.
2. Keystroke to verdict. IMDB test reviews are typed into the running app with
   ``tmux send-keys``, one character every 120 ms (a fast typist); the app reports, for each
   text whose live verdicts reach the screen, the time from its keystroke until after the
   refresh that shows them (``on_live_verdict``). Both verdicts are live: the sentiment model
   and the topic model, each of the shipped size. Measured idle, then while a training run
   (``rnn-tui train`` in a subprocess, TensorFlow on every core) is fitting.

The models come from the predict benchmarks' registry (``bench/out/home``): the sentiment
model ``bench-imdb-lstm`` (Embedding(20000,128)+LSTM(128)+pooling, maxlen 400) and a topic
model ``bench-reuters-gru`` of the same size on Reuters, trained here if missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

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

TOPIC_MODEL = "bench-reuters-gru"
TYPING_INTERVAL_S = 0.12
FOOTER = "f1 Help"

CHILD = """
import json, sys, time
from rnn_tui.tui.app import RnnTuiApp

launched, results = float(sys.argv[1]), sys.argv[2]
sentiment, topics = sys.argv[3], sys.argv[4]
out = open(results, "a", encoding="utf-8")

def write(**record):
    out.write(json.dumps(record) + "\\n")
    out.flush()

def painted(_):
    write(event="first_paint", seconds=time.time() - launched)
    app.set_interval(0.05, ready)

def ready():
    book = app.book
    if book is not None and book.is_loaded(sentiment) and book.is_loaded(topics):
        if not getattr(app, "_bench_ready", False):
            app._bench_ready = True
            write(event="ready", seconds=time.time() - launched)

def verdict(text, seconds):
    write(event="verdict", chars=len(text), seconds=seconds)

app = RnnTuiApp(sentiment=sentiment, topics=topics, on_first_paint=painted,
                on_live_verdict=verdict)
app.run()
"""


def ensure_topic_model() -> str:
    from rnn_tui.errors import NotFoundError
    from rnn_tui.registry import open_registries

    try:
        open_registries().resolve(TOPIC_MODEL)
    except NotFoundError:
        print(f"training {TOPIC_MODEL} (one epoch on Reuters, a few minutes)...",
              file=sys.stderr)
        subprocess.run([sys.executable, "-m", "rnn_tui", "train", "--dataset", "reuters",
                        "--arch", "gru", "--units", "128", "--embedding-dim", "128",
                        "--pool", "max+average", "--num-words", "20000", "--maxlen", "200",
                        "--epochs", "1", "--validation", "none", "--name", TOPIC_MODEL,
                        "--plain"], check=True, stdout=subprocess.DEVNULL)
    return TOPIC_MODEL


class Pane:
    """A tmux session on a private socket."""

    def __init__(self, command: list[str]) -> None:
        self.socket = f"rnn-tui-bench-{uuid.uuid4().hex[:8]}"
        environment = {key: os.environ[key] for key in ("RNN_TUI_HOME", "RNN_TUI_DATA",
                                                          "RNN_TUI_SHIPPED_MODELS", "PATH")
                       if key in os.environ}
        environment.update(LANG="C.UTF-8", TERM="xterm-256color")
        shell = "env " + " ".join(f"{k}='{v}'" for k, v in environment.items()) + " " + \
            " ".join(f"'{part}'" for part in command) + "; sleep 30"
        self._tmux("new-session", "-d", "-s", "bench", "-x", "80", "-y", "24", shell)

    def _tmux(self, *arguments: str) -> str:
        return subprocess.run(["tmux", "-u", "-L", self.socket, *arguments],
                              capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "bench")

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "bench", "-l", text)

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "bench", *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.002)


def first_paint(runs: int, sentiment: str, topics: str) -> dict:
    """Seconds from launch to the first screen: the app's report, and tmux's view of it."""
    app_reported, seen = [], []
    script = Path(sys.executable).with_name("rnn-tui")
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            results = Path(folder) / "results.jsonl"
            launched = time.time()
            pane = Pane([sys.executable, "-c", CHILD, repr(launched), str(results),
                         sentiment, topics])
            try:
                wait_until(lambda: FOOTER in pane.screen(), 30, "the footer")
                seen.append(time.time() - launched)
                paint = wait_until(lambda: [r for r in records(results)
                                            if r["event"] == "first_paint"], 30, "the report")
                app_reported.append(paint[0]["seconds"])
            finally:
                pane.keys("C-q")
                time.sleep(0.3)
                pane.close()
    # The real entry point too (click + lazy subcommand import), tmux's view only.
    entry = []
    for _ in range(runs):
        launched = time.time()
        pane = Pane([str(script)])
        try:
            wait_until(lambda: FOOTER in pane.screen(), 30, "the footer")
            entry.append(time.time() - launched)
        finally:
            pane.keys("C-q")
            time.sleep(0.3)
            pane.close()

    def summary(values: list[float]) -> dict:
        return {"median_s": round(statistics.median(values), 3),
                "max_s": round(max(values), 3), "runs": len(values)}

    return {"app_reported": summary(app_reported), "tmux_seen": summary(seen),
            "rnn_tui_command_tmux_seen": summary(entry)}


def type_reviews(pane: Pane, results: Path, reviews: list[str]) -> list[float]:
    """Type each review character by character; the latencies the app reported."""
    start = len(records(results))
    for review in reviews:
        for character in review:
            pane.type(character)
            time.sleep(TYPING_INTERVAL_S)
        time.sleep(0.5)
        pane.keys("C-u")  # clear the line for the next review
        time.sleep(0.3)
    return [record["seconds"] for record in records(results)[start:]
            if record["event"] == "verdict"]


def latency_summary(seconds: list[float], typed: int) -> dict:
    import numpy as np

    values = np.asarray(seconds) * 1000
    return {"keystrokes": typed, "verdicts_shown": int(values.size),
            "p50_ms": round(float(np.percentile(values, 50)), 1),
            "p90_ms": round(float(np.percentile(values, 90)), 1),
            "p99_ms": round(float(np.percentile(values, 99)), 1),
            "max_ms": round(float(values.max()), 1)}


def start_training() -> subprocess.Popen:
    """A real training run in the background (not published), fitting for a minute or more."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rnn_tui", "train", "--dataset", "imdb", "--arch", "lstm",
         "--train-limit", "6000", "--maxlen", "200", "--epochs", "20", "--no-publish",
         "--restart", "--name", "bench-tui-background", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    for line in process.stdout:  # wait until it is really fitting
        if '"BatchEnded"' in line:
            break
    return process


def keystroke_latency(reviews: list[str], sentiment: str, topics: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "results.jsonl"
        pane = Pane([sys.executable, "-c", CHILD, repr(time.time()), str(results),
                     sentiment, topics])
        try:
            wait_until(lambda: any(r["event"] == "ready" for r in records(results)), 120,
                       "the models to load")
            typed = sum(len(review) for review in reviews)
            idle = type_reviews(pane, results, reviews)
            training = start_training()
            try:
                busy = type_reviews(pane, results, reviews)
                still_training = training.poll() is None
            finally:
                training.send_signal(2)
                training.wait(timeout=60)
        finally:
            pane.keys("C-q")
            time.sleep(0.3)
            pane.close()
    return {"idle": latency_summary(idle, typed),
            "while_training": latency_summary(busy, typed),
            "training_ran_throughout": still_training}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="RNN_TUI_HOME for the bench registry")
    parser.add_argument("--paint-runs", type=int, default=7)
    parser.add_argument("--reviews", type=int, default=6, help="reviews typed per phase")
    parser.add_argument("--chars", type=int, default=60, help="characters typed per review")
    arguments = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (the benchmark drives a real terminal)")
    setup_environment(arguments.home)
    sentiment = ensure_model(DEFAULT_MODELS["lstm"])
    topics = ensure_topic_model()
    texts, _ = imdb_test_texts()
    reviews = [text[: arguments.chars] for text in texts[: arguments.reviews]]

    results = {"machine": machine(), "sentiment_model": sentiment, "topic_model": topics,
               "first_paint": first_paint(arguments.paint_runs, sentiment, topics),
               "keystroke_to_verdict": keystroke_latency(reviews, sentiment, topics)}
    path = save("tui_latency", results)
    print(json.dumps(results, indent=2))
    print(f"saved {path.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
