"""The workspace's speed in a real terminal, beside a bare Textual app: first paint, keystroke
to verdict on screen, idle and while a training runs.

    .venv/bin/python bench/tui_latency.py                      # ~4 minutes
    .venv/bin/python bench/tui_latency.py --paint-rounds 5 --reviews 2 --chars 40

Everything runs in tmux (80x24, UTF-8, xterm-256color), as a user would see it, and every
measure is taken for rnn-tui and for its yardstick, a bare Textual app (an Input, a line of
text and a Footer: what any Textual app pays), in alternating rounds after warm-up rounds
(which also write Python's bytecode cache, as installing a package does).

1. First paint: seconds from the parent launching ``tmux new-session`` until the app reports
   that its first screen has been drawn (``call_after_refresh`` from ``on_mount``, the same
   hook in both apps), and the CPU seconds the process had used by then (which the
   machine's other load moves least). The ``rnn-tui`` command (click and its lazy subcommand
   import in front) is timed by tmux's view only: polling ``capture-pane`` until the footer
   shows. ``--compare TREE`` adds ``rnn-tui@base``, the app of another checkout (e.g. the
   commit before a change: ``git archive COMMIT rnn_tui | tar -x -C /tmp/base``).
2. Keystroke to verdict: IMDB test reviews typed with ``tmux send-keys``, one character every
   120 ms; each app reports, after the refresh that shows the answer to a text (rnn-tui: both
   live verdicts, sentiment and topics; the bare app: the text echoed), the wall time. The
   latency of a keystroke is that time minus the moment the parent called ``send-keys`` for
   its character (tmux's client and the pty are in it, for both apps). rnn-tui also reports
   its own clock, from the input's Changed event to the screen. Measured idle, then while
   ``rnn-tui train`` fits an LSTM on IMDB in a subprocess (TensorFlow on every core); the
   reviews alternate between the two apps.

The models are the app's defaults, the shipped ``imdb-sentiment`` and ``reuters-topics``
(``--sentiment``/``--topics`` name others; ``bench-imdb-lstm`` is trained if asked for and
missing). The corpora come from ``RNN_TUI_DATA`` (e.g. /work/shared/datasets) or
``shared/datasets`` above the checkout.
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
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from predict_common import (  # noqa: E402
    OUT,
    ensure_model,
    imdb_test_texts,
    machine,
    save,
    setup_environment,
)

TYPING_INTERVAL_S = 0.12
FOOTER = "f1 Help"
RNN_TUI, BARE = "rnn-tui", "bare Textual"

# Both children write JSON lines: {"event": "first_paint"|"ready"|"shown", ...}.
_REPORTER = """
import json, sys, time
launched, results = float(sys.argv[1]), sys.argv[2]
out = open(results, "a", encoding="utf-8")

def write(**record):
    out.write(json.dumps(record) + "\\n")
    out.flush()
"""

CHILD = _REPORTER + """
from rnn_tui.tui.app import RnnTuiApp

sentiment, topics = sys.argv[3], sys.argv[4]

def painted(_):
    write(event="first_paint", seconds=time.time() - launched, cpu=time.process_time())
    app.set_interval(0.05, ready)

def ready():
    book = app.book
    if book is not None and book.is_loaded(sentiment) and book.is_loaded(topics):
        if not getattr(app, "_bench_ready", False):
            app._bench_ready = True
            write(event="ready", seconds=time.time() - launched)

def verdict(text, seconds):
    write(event="shown", chars=len(text), at=time.time(), in_app_s=seconds)

app = RnnTuiApp(sentiment=sentiment, topics=topics, on_first_paint=painted,
                on_live_verdict=verdict)
app.run()
"""

PEER = _REPORTER + """
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Input, Static


class Bare(App):
    BINDINGS = [Binding("f1", "help", "Help"), Binding("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Static(id="echo")
        yield Input(placeholder="type")
        yield Footer(compact=True)

    def on_mount(self):
        self.query_one(Input).focus()
        self.call_after_refresh(lambda: write(event="first_paint", cpu=time.process_time(),
                                              seconds=time.time() - launched))
        write(event="ready", seconds=time.time() - launched)

    def on_input_changed(self, event):
        text = event.value
        self.query_one("#echo", Static).update(text)
        self.call_after_refresh(lambda: write(event="shown", chars=len(text), at=time.time()))

    def action_help(self):
        pass


Bare().run()
"""


class Pane:
    """A tmux session (80x24) on a private socket, running ``command``."""

    def __init__(self, command: list[str], tree: str | None = None) -> None:
        self.socket = f"rnn-tui-bench-{uuid.uuid4().hex[:8]}"
        environment = {key: os.environ[key] for key in ("RNN_TUI_HOME", "RNN_TUI_DATA",
                                                          "RNN_TUI_SHIPPED_MODELS", "PATH",
                                                          "PYTHONPATH")
                       if key in os.environ}
        if tree is not None:
            environment["PYTHONPATH"] = tree  # another checkout's rnn_tui
        environment.update(LANG="C.UTF-8", TERM="xterm-256color")
        # bytecode is written (and used), as after a pip install
        shell = "env -u PYTHONDONTWRITEBYTECODE -u NO_COLOR " + " ".join(
            f"{k}='{v}'" for k, v in environment.items()) + " " + \
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
        try:
            self.keys("C-q")
            time.sleep(0.3)
        except subprocess.CalledProcessError:
            pass
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


BASE = "rnn-tui@base"
BASE_TREE: list[str] = []  # --compare TREE


def launch(side: str, results: Path, sentiment: str, topics: str) -> Pane:
    launched = repr(time.time())
    if side in (RNN_TUI, BASE):
        return Pane([sys.executable, "-c", CHILD, launched, str(results), sentiment, topics],
                    tree=BASE_TREE[0] if side == BASE else None)
    return Pane([sys.executable, "-c", PEER, launched, str(results)])


def paint_once(side: str, sentiment: str, topics: str) -> tuple[float, float]:
    """(wall seconds from launch to the first paint, the process' CPU seconds by then)."""
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "results.jsonl"
        pane = launch(side, results, sentiment, topics)
        try:
            painted = wait_until(lambda: [r for r in records(results)
                                          if r["event"] == "first_paint"], 30, "first paint")
            wait_until(lambda: FOOTER in pane.screen(), 30, "the footer")
            return painted[0]["seconds"], painted[0]["cpu"]
        finally:
            pane.close()


def command_paint_once() -> float:
    """The ``rnn-tui`` console script, seen through tmux (footer on the screen)."""
    launched = time.time()
    pane = Pane([str(Path(sys.executable).with_name("rnn-tui"))])
    try:
        wait_until(lambda: FOOTER in pane.screen(), 30, "the footer")
        return time.time() - launched
    finally:
        pane.close()


def spread(values: list[float], scale: float = 1.0, digits: int = 3) -> dict:
    """Median, quartiles and range over the rounds."""
    values = sorted(value * scale for value in values)
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return {"median": round(statistics.median(values), digits),
            "q1": round(quartiles[0], digits), "q3": round(quartiles[2], digits),
            "min": round(values[0], digits), "max": round(values[-1], digits),
            "n": len(values)}


def first_paint(rounds: int, warmups: int, sentiment: str, topics: str) -> dict:
    """Alternating rounds: bare app, rnn-tui's app, the rnn-tui command. The CPU seconds
    (the process' own, from its start) are what the machine's other load moves least."""
    sides = [BARE, RNN_TUI] + ([BASE] if BASE_TREE else [])
    times: dict[str, list[float]] = {key: [] for key in (
        *sides, "rnn-tui command (tmux)", *(f"{side}, CPU s" for side in sides))}
    for round_number in range(warmups + rounds):
        walls, cpus = zip(*(paint_once(side, sentiment, topics) for side in sides))
        measured = (*walls, command_paint_once(), *cpus)
        if round_number >= warmups:
            for key, value in zip(times, measured):
                times[key].append(value)
    return {key: spread(values) for key, values in times.items()}


def start_training(home: str) -> subprocess.Popen:
    """A real training run in the background (not published), fitting for minutes."""
    environment = dict(os.environ, RNN_TUI_HOME=home)
    process = subprocess.Popen(
        [sys.executable, "-m", "rnn_tui", "train", "--dataset", "imdb", "--arch", "lstm",
         "--train-limit", "6000", "--maxlen", "200", "--epochs", "20", "--no-publish",
         "--restart", "--name", "bench-tui-background", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment)
    assert process.stdout is not None
    for line in process.stdout:  # wait until it is really fitting
        if '"BatchEnded"' in line:
            break
    else:
        raise SystemExit("the background training ended before fitting")
    # keep reading its events, or its pipe fills and it blocks
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process


def type_review(pane: Pane, review: str) -> list[float]:
    """Type ``review`` a character at a time; the wall time each keystroke was sent."""
    sent = []
    for character in review:
        sent.append(time.time())
        pane.type(character)
        time.sleep(TYPING_INTERVAL_S)
    time.sleep(0.5)
    pane.keys("C-u")  # clear the line for the next review
    time.sleep(0.3)
    return sent


def latencies(shown: list[dict], sent: list[float]) -> tuple[list[float], list[float]]:
    """(keystroke -> screen from send-keys, the app's own clock) for one typed review."""
    end_to_end, in_app = [], []
    for record in shown:
        chars = record["chars"]
        if 1 <= chars <= len(sent):
            end_to_end.append(record["at"] - sent[chars - 1])
            if "in_app_s" in record:
                in_app.append(record["in_app_s"])
    return end_to_end, in_app


def percentiles(seconds: list[float], typed: int) -> dict:
    import numpy as np

    if not seconds:
        return {"keystrokes": typed, "shown": 0}
    values = np.asarray(seconds) * 1000
    return {"keystrokes": typed, "shown": int(values.size),
            "p50_ms": round(float(np.percentile(values, 50)), 1),
            "p90_ms": round(float(np.percentile(values, 90)), 1),
            "p99_ms": round(float(np.percentile(values, 99)), 1),
            "max_ms": round(float(values.max()), 1)}


class Typist:
    """Both apps open in their own tmux panes; reviews typed into each in turn."""

    def __init__(self, folder: Path, sentiment: str, topics: str) -> None:
        self.results = {side: folder / f"{side.replace(' ', '-')}.jsonl"
                        for side in (RNN_TUI, BARE)}
        self.panes = {side: launch(side, self.results[side], sentiment, topics)
                      for side in (RNN_TUI, BARE)}
        for side in (RNN_TUI, BARE):
            wait_until(lambda: any(r["event"] == "ready" for r in records(self.results[side])),
                       180, f"{side} to be ready (models loaded)")

    def phase(self, reviews: list[str]) -> dict:
        measured = {side: ([], []) for side in (RNN_TUI, BARE)}
        typed = sum(len(review) for review in reviews)
        for review in reviews:
            for side in (RNN_TUI, BARE):
                start = len(records(self.results[side]))
                sent = type_review(self.panes[side], review)
                shown = [r for r in records(self.results[side])[start:] if r["event"] == "shown"]
                end_to_end, in_app = latencies(shown, sent)
                measured[side][0].extend(end_to_end)
                measured[side][1].extend(in_app)
        return {RNN_TUI: percentiles(measured[RNN_TUI][0], typed),
                RNN_TUI + ", own clock (Changed -> screen)": percentiles(measured[RNN_TUI][1],
                                                                          typed),
                BARE: percentiles(measured[BARE][0], typed)}

    def close(self) -> None:
        for pane in self.panes.values():
            pane.close()


def keystroke_latency(reviews: list[str], warmup: str, sentiment: str, topics: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        typist = Typist(Path(folder), sentiment, topics)
        try:
            typist.phase([warmup])
            idle = typist.phase(reviews)
            training = start_training(str(Path(folder) / "train-home"))
            try:
                busy = typist.phase(reviews)
                still_training = training.poll() is None
            finally:
                training.send_signal(2)
                training.wait(timeout=60)
        finally:
            typist.close()
    return {"idle": idle, "while_training": busy, "training_ran_throughout": still_training}


def print_tables(results: dict) -> None:
    print(f"\nmachine: {results['machine']}")
    if "first_paint" in results:
        print_paint(results["first_paint"])
    if "keystroke_to_verdict" in results:
        print_keys(results["keystroke_to_verdict"])


def print_paint(figures_by_side: dict) -> None:
    print("\nfirst paint, seconds from launch (median [IQR] min-max over rounds):")
    for side, figures in figures_by_side.items():
        print(f"  {side:<28} {figures['median']:.3f} [{figures['q1']:.3f}-{figures['q3']:.3f}]"
              f" {figures['min']:.3f}-{figures['max']:.3f}  (n={figures['n']})")


def print_keys(keystrokes: dict) -> None:
    print("\nkeystroke -> on screen, ms (p50 / p90 / p99 / max; shown of typed):")
    for phase in ("idle", "while_training"):
        print(f"  {phase}:")
        for side, figures in keystrokes[phase].items():
            if "p50_ms" not in figures:
                print(f"    {side:<44} nothing shown")
                continue
            print(f"    {side:<44} {figures['p50_ms']:>6} {figures['p90_ms']:>6} "
                  f"{figures['p99_ms']:>6} {figures['max_ms']:>6}  "
                  f"({figures['shown']}/{figures['keystrokes']})")
    print(f"  training ran throughout: {keystrokes['training_ran_throughout']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="RNN_TUI_HOME for the bench registry")
    parser.add_argument("--sentiment", default="imdb-sentiment")
    parser.add_argument("--topics", default="reuters-topics")
    parser.add_argument("--paint-rounds", type=int, default=7)
    parser.add_argument("--warmups", type=int, default=2, help="first-paint warm-up rounds")
    parser.add_argument("--reviews", type=int, default=4, help="reviews typed per phase")
    parser.add_argument("--chars", type=int, default=60, help="characters typed per review")
    parser.add_argument("--skip-paint", action="store_true")
    parser.add_argument("--skip-keys", action="store_true")
    parser.add_argument("--compare", metavar="TREE",
                        help="also the app of another checkout (first paint only)")
    arguments = parser.parse_args()
    if arguments.compare:
        BASE_TREE.append(str(Path(arguments.compare).resolve()))
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (the benchmark drives a real terminal)")
    setup_environment(arguments.home)
    sentiment, topics = ensure_model(arguments.sentiment), ensure_model(arguments.topics)
    texts, _ = imdb_test_texts()
    reviews = [text[: arguments.chars] for text in texts[1: arguments.reviews + 1]]
    results: dict = {"machine": machine(), "sentiment_model": sentiment, "topic_model": topics}
    started = time.time()
    if not arguments.skip_paint:
        results["first_paint"] = first_paint(arguments.paint_rounds, arguments.warmups,
                                             sentiment, topics)
    if not arguments.skip_keys:
        results["keystroke_to_verdict"] = keystroke_latency(
            reviews, texts[0][: arguments.chars], sentiment, topics)
    results["machine_after"] = machine()
    results["seconds"] = round(time.time() - started, 1)
    path = save("tui_latency", results)
    print(json.dumps(results, indent=2))
    print_tables(results)
    print(f"saved {path.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
