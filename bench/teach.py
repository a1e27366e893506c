"""Teaching the shipped sentiment models a kind of text they get wrong.

The kind: praise in slang that reads as abuse ("that film was nuts", "영화 진짜 개미쳤다"),
in words the models' vocabularies hold (a word outside it cannot be taught, only its
context: teach counts such words; "bananas" is one for imdb-sentiment).
For each model and round, 50 corrections are made from one set of frames and things, and
held-out texts of the same kind from another set of frames and things (same slang, new
sentences); none of the frames is a ``rnn-tui check`` template. Each round runs in a fresh
home: the corrections are recorded, ``rnn-tui teach MODEL --plain`` runs as a user runs it
(wall time measured around the process), then the parent (the peer: the model as shipped)
and the taught version score the held-out texts with the NumPy runtime. Test accuracy
before/after comes from the taught version's card (the parent's card, and the whole test
split measured after teaching). Models alternate within each round; rounds differ in which
slang goes with which frame (seeded). Prints each round, then median and min-max.

    RNN_TUI_DATA=../shared/datasets python bench/teach.py --rounds 2

Targets (issue 16): >= 90 % of held-out texts right after teaching, test accuracy down by
<= 0.3 points, teach <= 2 minutes on 2 cores. The load average is printed with each round:
on a shared machine the wall time says as much about the neighbours as about teach.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SLANG = {
    "en": ["nuts", "wicked", "unreal", "sick", "insane", "bonkers", "ridiculously good",
           "absurdly good", "insanely good", "stupidly good"],
    "ko": ["개미쳤다", "미쳤음", "찢었다", "찢었음", "씹어먹었다", "사기다", "미쳤네",
           "개미쳤음", "찢었네", "사기급이다"],
}
# Corrections come from TEACH frames, held-out texts from HELD_OUT frames and things.
TEACH_FRAMES = {
    "en": ["that whole {t} was {w}", "that {t} is {w}, seriously", "honestly the {t} was {w}",
           "the {t}? {w}.", "man, that {t} was {w}"],
    "ko": ["{t} 진짜 {w}", "와 이 {t} {w}", "{t} 보고 왔는데 {w}", "솔직히 {t} {w}",
           "{t} 완전 {w}"],
}
HELD_OUT_FRAMES = {
    "en": ["my friends and I thought the {t} was {w}", "{w}! what a {t}",
           "that {t} was {w} from start to finish", "trust me, the {t} is {w}",
           "we saw the {t} last night and it was {w}"],
    "ko": ["주말에 본 {t} {w} ㅋㅋ", "어제 {t} 봤는데 그냥 {w}", "친구랑 {t} 봤는데 {w}",
           "{t} 끝까지 {w}", "올해 본 {t} 중에 제일 {w}"],
}
THINGS = {
    "en": (["movie", "film", "show", "sequel", "ending"],
           ["soundtrack", "finale", "story", "cast", "premiere"]),
    "ko": (["영화", "연기", "연출", "음악", "엔딩"], ["드라마", "액션", "영상미", "배우들", "ost"]),
}
MODELS = {"imdb-sentiment": "en", "nsmc-sentiment": "ko"}
CORRECTIONS = 50
HELD_OUT = 60


def texts_of(frames: list[str], things: list[str], slang: list[str]) -> list[str]:
    return [frame.format(t=thing, w=word)
            for frame, thing, word in itertools.product(frames, things, slang)]


def make_kind(language: str, seed: int) -> tuple[list[str], list[str]]:
    """(50 correction texts, 60 held-out texts), both positive, seeded."""
    rng = random.Random(seed)
    teach_things, held_things = THINGS[language]
    teach = texts_of(TEACH_FRAMES[language], teach_things, SLANG[language])
    held = texts_of(HELD_OUT_FRAMES[language], held_things, SLANG[language])
    rng.shuffle(teach)
    rng.shuffle(held)
    return teach[:CORRECTIONS], held[:HELD_OUT]


def check_distinct() -> None:
    """No frame is a ``rnn-tui check`` template, and no text made here is one of its texts."""
    from rnn_tui.check.suite import Suite

    for language in ("en", "ko"):
        cases = Suite.shipped(language).cases
        sources = {case.source for case in cases}
        texts = {text for case in cases for text in case.texts}
        for frame in TEACH_FRAMES[language] + HELD_OUT_FRAMES[language]:
            assert frame.replace("{t}", "{thing}") not in sources, frame
        for seed in range(5):
            for text in sum(make_kind(language, seed), []):
                assert text not in texts, text


def right(predictor, texts: list[str], label: str) -> float:
    probabilities = predictor.predict(texts)
    return float(np.mean(probabilities.argmax(axis=1) == predictor.labels.index(label)))


def one_round(model: str, seed: int, python: str, extra: list[str]) -> dict[str, float]:
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import open_registries
    from rnn_tui.teach.corrections import Correction, Corrections

    language = MODELS[model]
    teach_texts, held_texts = make_kind(language, seed)
    home = tempfile.mkdtemp(prefix="bench-teach-")
    os.environ["RNN_TUI_HOME"] = home
    parent = Predictor.load(model)
    before = right(parent, held_texts, "positive")
    Corrections.for_model(model).add_many(
        [Correction(text, "positive", f"{model}:{parent.version}") for text in teach_texts])
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.run([python, "-m", "rnn_tui", "teach", model, "--plain", *extra],
                             capture_output=True, text=True, env=dict(os.environ))
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"teach {model} failed ({process.returncode}):\n{process.stderr[-2000:]}")
    version = open_registries().resolve(model)
    card = version.card["teach"]
    after = right(Predictor.load(version), held_texts, "positive")
    shutil.rmtree(home, ignore_errors=True)  # (a copy of the model and its taught version)
    return {"held_out_before": 100 * before, "held_out_after": 100 * after,
            "corrections_before": 100 * card["corrections_right_before"] / CORRECTIONS,
            "corrections_after": 100 * card["corrections_right_after"] / CORRECTIONS,
            "test_before": 100 * card["test_accuracy_before"],
            "test_after": 100 * card["test_accuracy_after"],
            "test_change": 100 * (card["test_accuracy_after"] - card["test_accuracy_before"]),
            "teach_s": seconds, "load": (load_before + os.getloadavg()[0]) / 2}


COLUMNS = [("held_out_before", "held-out right before %", "{:.1f}"),
           ("held_out_after", "after %", "{:.1f}"),
           ("corrections_before", "corrections right before %", "{:.0f}"),
           ("corrections_after", "after %", "{:.0f}"),
           ("test_before", "test acc before %", "{:.2f}"),
           ("test_after", "after %", "{:.2f}"),
           ("test_change", "change (points)", "{:+.2f}"),
           ("teach_s", "teach wall s", "{:.1f}"),
           ("load", "load avg", "{:.1f}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="round k uses seed first-seed + k (which texts, which frames)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--teach-args", default="", help="more options for rnn-tui teach")
    options = parser.parse_args()
    check_distinct()
    print(f"{os.cpu_count()} CPU(s); rnn-tui teach MODEL {options.teach_args}".rstrip())
    print(f"{CORRECTIONS} corrections and {HELD_OUT} held-out texts "
          "per model and round; peer: the shipped model (before)")
    results: dict[str, list[dict[str, float]]] = {model: [] for model in options.models}
    for round_index in range(options.rounds):
        for model in options.models:  # alternating within each round
            figures = one_round(model, seed=options.first_seed + round_index,
                                python=sys.executable,
                                extra=options.teach_args.split())
            results[model].append(figures)
            print(f"round {round_index + 1} {model}: " + ", ".join(
                f"{title} {fmt.format(figures[key])}" for key, title, fmt in COLUMNS),
                flush=True)
    print()
    for model, rounds in results.items():
        print(f"{model} over {len(rounds)} round(s): median [min-max]")
        for key, title, fmt in COLUMNS:
            values = [r[key] for r in rounds]
            print(f"  {title:<28} {fmt.format(float(np.median(values)))} "
                  f"[{fmt.format(min(values))} - {fmt.format(max(values))}]")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
