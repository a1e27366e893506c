"""Reliability campaigns with bigger counts than CI: faults injected and survived, concurrent
load held, hostile inputs tried, data lost. Prints a markdown table (README's figures).

    .venv/bin/python bench/reliability.py                      # the full campaign (~15 min)
    .venv/bin/python bench/reliability.py --kills 40 --predict-calls 25 --seed 1
    .venv/bin/python bench/reliability.py --only kills,publish  # some rows

Everything runs on real processes, real files and the tiny real models that the TUI tests
use (tests/tui_models.py trains them into bench/out/reliability first). The campaigns are
the ones of tests/test_reliability_*.py (tests/reliability_support.py), scaled up; "data
lost" counts versions that were incomplete or damaged, epochs that had to be trained again
beyond the last unfinished one, published models that differ from an uninterrupted run,
and failed predictions.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROWS = ("kills", "publish", "disk", "damaged", "predict", "trainers", "best", "models",
        "escapes", "texts", "datasets")


def tiny_models(out: Path) -> Path:
    """The tiny real models of the TUI tests (trained once, kept in bench/out)."""
    registry = out / "tiny-models" / "home" / "models"
    if not (registry / "reuters-topics" / "1" / "card.json").exists():
        from tui_models import train_tiny_registry

        print("training the tiny models (once) ...", file=sys.stderr)
        train_tiny_registry(out / "tiny-models")
    return registry


def run_main(args: list[str]) -> tuple[int, str, str]:
    """``rnn-tui ARGS`` in this process: (exit code, stdout, stderr)."""
    from rnn_tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(args)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def one_clean_line(code: int, err: str, expected_code: int = 2) -> bool:
    lines = [line for line in err.splitlines() if line.strip()]
    return (code == expected_code and len(lines) == 1 and "Traceback" not in err
            and "internal error" not in err)


# ---------------------------------------------------------------------------- rows
def row_kills(args, work: Path, models: Path) -> dict:
    from reliability_support import training_kill_campaign

    result = training_kill_campaign(work / "kills", kills=args.kills, seed=args.seed,
                                    log=lambda line: print("  " + line, file=sys.stderr))
    trainings = result.details.get("trainings", {})
    plans = ", ".join(f"{k} {v}" for k, v in sorted(result.details.get("plans", {}).items()))
    return {"what": "`rnn-tui train` SIGKILLed at random points (during epochs, checkpoint "
                    f"and backup writes, publishing, cleanup: {plans}), resumed each time",
            "tried": f"{result.injected} kills", "held": f"{result.survived} survived; "
            f"{len(trainings)} trainings published, each equal to an uninterrupted run",
            "failures": result.failures}


def row_publish(args, work: Path, models: Path) -> dict:
    from reliability_support import PUBLISH_POINTS, publish_kill_campaign

    result = publish_kill_campaign(work / "publish" / "models",
                                   models / "imdb-sentiment" / "1",
                                   random_kills=args.publish_kills, seed=args.seed)
    return {"what": f"publisher SIGKILLed at each step ({len(PUBLISH_POINTS)}: copying, card, "
                    "counter, before/after the rename, aliases, generation) and at random",
            "tried": f"{result.injected} kills", "held": f"{result.survived} left the "
            f"version whole or absent ({result.operations} publishes in between)",
            "failures": result.failures}


def row_disk(args, work: Path, models: Path) -> dict:
    from reliability_support import disk_full_publish_campaign
    from rnn_tui.registry import Registry

    archive = Registry(models).export("reuters-topics", work / "topics.zip")
    result = disk_full_publish_campaign(work / "disk" / "models", models / "imdb-sentiment" /
                                        "1", archive)
    return {"what": "disk full (ENOSPC) at every byte count around each file, while "
                    "publishing a version and importing an archive",
            "tried": f"{result.injected + result.operations} publishes",
            "held": f"{result.injected} failed with ENOSPC leaving the registry as it was, "
                    f"no stray files; {result.operations} with room succeeded",
            "failures": result.failures}


def row_damaged(args, work: Path, models: Path) -> dict:
    from reliability_support import DAMAGE_CASES, damaged_files_campaign

    result = damaged_files_campaign(work / "damaged", models)
    return {"what": "model.keras, runtime.npz, vocabulary.json, card.json truncated, "
                    "bit-flipped, emptied; card of an unknown format_version",
            "tried": f"{len(DAMAGE_CASES)} damaged files",
            "held": f"{result.survived} named in one line by verify/predict, the other model "
                    "still listed and predicting", "failures": result.failures}


def row_predict(args, work: Path, models: Path) -> dict:
    from reliability_support import predict_while_publishing

    sources = [models / name / "1" for name in ("imdb-sentiment", "nsmc-sentiment",
                                                "reuters-topics")]
    result = predict_while_publishing(work / "predict", sources, processes=8,
                                      calls=args.predict_calls, interval=0.2)
    d = result.details
    return {"what": "8 processes running `rnn-tui predict` in a loop while another process "
                    "publishes a new version of the same model every 0.2 s",
            "tried": f"8 x {args.predict_calls} calls, {d.get('predictions', 0)} predictions",
            "held": f"{d.get('publishes', 0)} versions published in {d.get('seconds')} s; "
                    f"answers from {d.get('versions_answering')} versions, each exactly its "
                    "model's", "failures": result.failures}


def row_trainers(args, work: Path, models: Path) -> dict:
    from reliability_support import two_trainers

    result = two_trainers(work / "trainers")
    return {"what": "two `rnn-tui train --name shared` at once, one registry",
            "tried": "2 trainings", "held": f"{result.operations} distinct complete "
            "versions, @best on the better one", "failures": result.failures}


def race_once(work: Path, index: int) -> bool:
    import multiprocessing

    from test_reliability_concurrency import race_to_publish

    from rnn_tui.registry import Registry

    spawn = multiprocessing.get_context("spawn")
    root = work / "best" / f"race-{index}"
    barrier, results = spawn.Barrier(2), spawn.Queue()
    racers = [spawn.Process(target=race_to_publish,
                            args=(str(root), accuracy, delay, barrier, results))
              for accuracy, delay in ((0.9, 0.0), (0.6, 0.3))]
    for racer in racers:
        racer.start()
    for _ in racers:
        results.get(timeout=120)
    for racer in racers:
        racer.join(60)
    return Registry(root).aliases("raced") == {"best": 1}


def row_best(args, work: Path, models: Path) -> dict:
    trials = args.races
    held = sum(race_once(work, index) for index in range(trials))
    failures = [] if held == trials else [f"{trials - held} races ended with @best wrong"]
    return {"what": "two publishers meeting at a barrier just before publishing; the better "
                    "first, the worse 0.3 s later", "tried": f"{trials} races",
            "held": f"{held} with @best on the better version", "failures": failures}


def row_models(args, work: Path, models: Path) -> dict:
    """Lambda layers (.keras, .h5) and configs naming arbitrary code, through models import."""
    from test_reliability_hostile import CRAFTED, lambda_model, rewrite_config

    from rnn_tui.backend import keras

    keras_module = keras()
    os.environ["RNN_TUI_HOME"] = str(work / "models-home")
    folder = work / "model-files"
    folder.mkdir(parents=True)
    marker = folder / "code-ran"
    files = []
    for suffix in (".keras", ".h5"):
        path = folder / f"lambda{suffix}"
        lambda_model(keras_module, marker).save(path)
        files.append(path)
    marker.unlink()
    inputs = keras_module.Input((4,))
    keras_module.Model(inputs, keras_module.layers.Dense(1)(inputs)).save(folder / "plain.keras")
    for case, change in CRAFTED.items():
        files.append(rewrite_config(folder / "plain.keras", folder / f"{case}.keras", change))
    refused = 0
    failures = []
    for path in files:
        code, _, err = run_main(["models", "import", "hostile", str(path)])
        if one_clean_line(code, err) and "refused" in err:
            refused += 1
        else:
            failures.append(f"{path.name}: {code} {err!r}")
    if marker.exists() or Path("/tmp/rnn-tui-pwned").exists():
        failures.append("code from a model file ran")
    return {"what": "model files that would run code: Lambda layers (.keras, .h5), configs "
                    "naming os.system, builtins.exec, subprocess.Popen, an unknown class",
            "tried": f"{len(files)} files", "held": f"{refused} refused with a message; "
            "code run: 0 (a marker file proves it)", "failures": failures}


def row_escapes(args, work: Path, models: Path) -> dict:
    from test_reliability_hostile import ESCAPING_NAMES

    from rnn_tui.registry import Registry

    home = work / "escapes"
    os.environ["RNN_TUI_HOME"] = str(home)
    os.environ["RNN_TUI_SHIPPED_MODELS"] = ""
    model_file = work / "model.keras"
    model_file.write_bytes(b"never read")
    tried = refused = 0
    failures = []
    for name in ESCAPING_NAMES:
        commands = [["models", "import", name, str(model_file)], ["models", "show", name],
                    ["models", "rm", name, "--yes"], ["models", "alias", name, "best", "1"],
                    ["models", "tag", name, "x"], ["models", "verify", name],
                    ["models", "export", name, str(work / "out.tar.gz")],
                    ["predict", "-m", name, "text"]]
        if name:
            commands.append(["train", "--dataset", "multiplication", "--name", name])
        for command in commands:
            tried += 1
            code, _, err = run_main(command)
            if one_clean_line(code, err):
                refused += 1
            else:
                failures.append(f"{command}: {code} {err!r}")
    # links: a version folder, a model folder and each file linked out of the registry
    registry = Registry(home / "models")
    registry.publish("linked", models / "imdb-sentiment" / "1")
    outside = work / "outside"
    shutil.copytree(models / "imdb-sentiment" / "1", outside / "1")
    (home / "models" / "linked" / "7").symlink_to(outside / "1", target_is_directory=True)
    (home / "models" / "alias-dir").symlink_to(outside, target_is_directory=True)
    for ref in ("linked:7", "alias-dir"):
        tried += 1
        code, _, err = run_main(["predict", "-m", ref, "great"])
        refused += one_clean_line(code, err)
    version = registry.resolve("linked:1")
    for file_name in ("runtime.npz", "vocabulary.json", "card.json", "model.keras"):
        path = version.path / file_name
        data = path.read_bytes()
        path.unlink()
        path.symlink_to(outside / "1" / file_name)
        tried += 1
        code, _, err = run_main(["models", "verify", "linked:1"])
        if one_clean_line(code, err) and "symbolic link" in err:
            refused += 1
        else:
            failures.append(f"{file_name} link: {err!r}")
        path.unlink()
        path.write_bytes(data)
    return {"what": "names and paths escaping the registry (.., absolute, separators, "
                    "hidden, NUL, too long) in every models/predict/train command; version "
                    "folders, model folders and files that are symbolic links",
            "tried": f"{tried} attempts", "held": f"{refused} refused in one line; nothing "
            "written or read outside", "failures": failures}


def row_texts(args, work: Path, models: Path) -> dict:
    import re

    from reliability_support import cli
    from test_reliability_hostile import HOSTILE_TEXTS, RAW_CONTROL

    from rnn_tui.registry import Registry

    home = work / "texts"
    Registry(home / "models").publish("imdb-sentiment", models / "imdb-sentiment" / "1")
    texts = [t for t in HOSTILE_TEXTS.values() if "\x00" not in t]
    failures = []
    answered = 0
    for output in ("text", "json", "jsonl", "tsv"):
        done = cli(["predict", "-m", "imdb-sentiment", "--format", output, *texts], home)
        shown = done.stdout.replace(b"\t", b" ") if output == "tsv" else done.stdout
        if done.returncode != 0 or RAW_CONTROL.search(shown):
            failures.append(f"{output}: {done.returncode} {done.stderr!r}")
        answered += len(texts)
    lines = [t.encode() for t in HOSTILE_TEXTS.values()] + [
        b"", b"  \t ", b"\xff\xfe bad utf-8", b"nul\x00byte", b"\r", b"z" * 1_000_000,
        "🎬 최고 ".encode() * 1000]
    done = cli(["predict", "-m", "imdb-sentiment"], home, input=b"\n".join(lines) + b"\n",
               timeout=300)
    reported = re.findall(rb"line \d+:", done.stderr)
    if RAW_CONTROL.search(done.stdout) or RAW_CONTROL.search(done.stderr) or \
            b"Traceback" in done.stderr or done.returncode != 2:
        failures.append(f"stdin: {done.returncode} {done.stderr[-300:]!r}")
    answered += len(done.stdout.splitlines()) + len(reported)
    return {"what": "texts with ESC/OSC/CR/BS/NUL/DEL/C1, bidi overrides, markup, emoji, "
                    "RTL and mixed scripts, empty, whitespace, invalid UTF-8, 1 MB, through "
                    "predict in 4 output formats and on stdin",
            "tried": f"{answered} texts", "held": f"raw control bytes on the terminal: 0; "
            f"{len(reported)} bad lines reported by number", "failures": failures}


def row_datasets(args, work: Path, models: Path) -> dict:
    from test_reliability_hostile import hostile_files

    files = hostile_files(work / "datasets")
    failures = []
    tried = handled = 0
    for case, (path, expected) in files.items():
        options = ["-o", "task=regression"] if case == "non-numeric regression" else []
        commands = [["data", "show", str(path), *options]]
        if not options:
            commands.append(["train", "--dataset", str(path), "--epochs", "1", "--name",
                             "hostile"])
        for command in commands:
            tried += 1
            code, _, err = run_main(command)
            if one_clean_line(code, err) and expected in err:
                handled += 1
            else:
                failures.append(f"{case} ({command[0]}): {code} {err!r}")
    return {"what": "dataset files: unclosed quote, wrong column counts, empty label, "
                    "Latin-1, UTF-16, a 2 MB field, bad JSON lines, binary garbage, empty, "
                    "header only, missing column, non-numeric target; `data show` and `train`",
            "tried": f"{tried} runs", "held": f"{handled} one-line errors with file (and "
            "line)", "failures": failures}


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=40, help="training kills [40]")
    parser.add_argument("--publish-kills", type=int, default=40,
                        help="random publisher kills, besides one per step [40]")
    parser.add_argument("--predict-calls", type=int, default=25,
                        help="predict calls per process (8 processes) [25]")
    parser.add_argument("--races", type=int, default=5, help="@best races [5]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help=f"comma list of rows: {','.join(ROWS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "reliability")
    args = parser.parse_args()
    rows = args.only.split(",") if args.only else list(ROWS)
    args.out.mkdir(parents=True, exist_ok=True)
    models = tiny_models(args.out)
    results = []
    with tempfile.TemporaryDirectory(prefix="rnn-tui-reliability-") as scratch:
        os.environ["RNN_TUI_HOME"] = str(Path(scratch) / "home")
        os.environ["RNN_TUI_SHIPPED_MODELS"] = ""
        for name in rows:
            started = time.monotonic()
            print(f"{name} ...", file=sys.stderr)
            work = Path(scratch) / name
            work.mkdir()
            row = globals()[f"row_{name}"](args, work, models)
            row["seconds"] = round(time.monotonic() - started, 1)
            print(f"{name}: {row['tried']}; {row['held']}; failures {len(row['failures'])} "
                  f"({row['seconds']} s)", file=sys.stderr)
            for failure in row["failures"][:10]:
                print(f"  FAILED: {failure}", file=sys.stderr)
            results.append(row)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print("| campaign | tried | held | failed | data lost | time |")
    print("|---|---|---|---|---|---|")
    for row in results:
        print(f"| {row['what']} | {row['tried']} | {row['held']} | {len(row['failures'])} | "
              f"{'0' if not row['failures'] else 'see failures'} | {row['seconds']:.0f} s |")


if __name__ == "__main__":
    main()
