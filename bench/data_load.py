"""Benchmark: load each real corpus, then vectorize it (fit a vocabulary, ids, pad).

Each corpus runs in its own process, so the peak resident memory (``ru_maxrss``) is its own.
Times are wall-clock seconds of a plain run; the Python allocation peak (``tracemalloc``) is
measured in a second run, because tracing slows the code down.

    RNN_TUI_DATA=../shared/datasets .venv/bin/python bench/data_load.py
    .venv/bin/python bench/data_load.py --data-home ../shared/datasets --corpora imdb nsmc

Vectorizing = ``Vocabulary(num_words=20000).fit(train)``, then ``encode`` (texts_to_sequences +
pad_sequences, maxlen=200, padding="post") of train and test: the tutorials' usual first steps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

# (label, corpus name, loader options)
CASES = {
    "imdb": ("imdb", {}),
    "reuters": ("reuters", {}),
    "reuters-modapte": ("reuters", {"split": "modapte"}),
    "nsmc": ("nsmc", {}),
    "shopping": ("shopping", {}),
    "multiplication": ("multiplication", {}),
}
NUM_WORDS = 20_000
MAXLEN = 200


def _work(name: str, options: dict) -> tuple[float, float, dict]:
    from rnn_tui.data import load_corpus
    from rnn_tui.text import Vocabulary

    started = time.perf_counter()
    corpus = load_corpus(name, **options)
    loaded = time.perf_counter()
    facts = {"train": len(corpus.train), "test": len(corpus.test), "form": corpus.form}
    if corpus.is_text:
        vocabulary = Vocabulary(num_words=NUM_WORDS).fit(corpus.train.texts)
        for split in (corpus.train, corpus.test):
            # texts_to_sequences + pad_sequences, a chunk of texts at a time
            vocabulary.encode(split.texts, maxlen=MAXLEN, padding="post")
        facts["vocabulary"] = len(vocabulary.word_index)
    vectorized = time.perf_counter()
    return loaded - started, vectorized - loaded, facts


def run_one(label: str) -> dict:
    """Measure one case in this process (called in a child process)."""
    name, options = CASES[label]
    load_s, vectorize_s, facts = _work(name, options)
    tracemalloc.start()
    _work(name, options)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"case": label, "load_s": load_s, "vectorize_s": vectorize_s,
            "traced_peak_mb": peak / 1e6, "maxrss_mb": maxrss_kb / 1e3, **facts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="defaults to $RNN_TUI_DATA")
    parser.add_argument("--corpora", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.data_home:
        os.environ["RNN_TUI_DATA"] = args.data_home
    if args.one:
        print(json.dumps(run_one(args.one)))
        return

    from rnn_tui.data import store

    rows = []
    for label in args.corpora:
        name, _ = CASES[label]
        if not store.catalog.get(name).synthetic and store.find(name) is None:
            rows.append({"case": label, "skipped": "not in the data home"})
            continue
        child = subprocess.run([sys.executable, __file__, "--one", label], capture_output=True,
                               text=True, env=os.environ.copy())
        if child.returncode != 0:
            rows.append({"case": label, "skipped": child.stderr.strip().splitlines()[-1]})
            continue
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))

    print(f"data home: {os.environ.get('RNN_TUI_DATA', '(default)')}; python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs; vectorize = Vocabulary(num_words={NUM_WORDS}) fit + ids + "
          f"pad to {MAXLEN}")
    header = f"{'corpus':<16}{'train':>9}{'test':>8}{'load s':>9}{'vector s':>10}{'vocab':>9}" \
             f"{'traced MB':>11}{'maxrss MB':>11}  form"
    print(header)
    print("-" * len(header))
    for row in rows:
        if "skipped" in row:
            print(f"{row['case']:<16}skipped: {row['skipped']}")
            continue
        print(f"{row['case']:<16}{row['train']:>9,}{row['test']:>8,}{row['load_s']:>9.2f}"
              f"{row['vectorize_s']:>10.2f}{row.get('vocabulary', 0):>9,}"
              f"{row['traced_peak_mb']:>11.0f}{row['maxrss_mb']:>11.0f}  {row['form']}")


if __name__ == "__main__":
    main()
