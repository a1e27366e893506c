"""Reliability campaigns with bigger counts than CI: faults injected and survived, concurrent
load held, hostile inputs tried, data lost. Prints a markdown table (README's figures).

    .venv/bin/python bench/reliability.py                      # the full campaign (<= 10 min)
    .venv/bin/python bench/reliability.py --quick              # every row, small counts (CI)
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
        "escapes", "texts", "datasets", "cards", "locks", "limits", "unwritable", "durable",
        "smaller", "downloads", "fuzz")
# --quick: every row, counts small enough for CI (3.5 minutes on the busy 2-core machine)
QUICK = {"kills": 4, "publish_kills": 4, "predict_calls": 2, "races": 1, "lock_writes": 8,
         "durable": 4, "downloads": 8, "fuzz": 60, "fuzz_serve": 200}
ROWS_WITHOUT_MODELS = {"fuzz"}  # (the tiny models are trained on first use: minutes)


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


# ---------------------------------------------------------------------------- round two
def raw_control(data: bytes) -> bool:
    from test_reliability_hostile import RAW_CONTROL

    return bool(RAW_CONTROL.search(data))


def row_cards(args, work: Path, models: Path) -> dict:
    """A card full of escape sequences, imported and shown by every command and the TUI."""
    from rich.console import Console

    from reliability_support import cli
    from test_reliability_card_texts import hostile_card

    from rnn_tui.registry import Registry
    from rnn_tui.tui.widgets.summary_pane import card_view

    source = work / "source"
    source.mkdir()
    (source / "model.keras").write_bytes(b"not read by these commands")
    elsewhere = Registry(work / "elsewhere")
    archive = elsewhere.export(elsewhere.publish("evil", source, card=hostile_card()).ref,
                               work / "evil.tar.gz")
    home = work / "home"
    commands = [["models", "import", "evil", str(archive)], ["summary", "evil"],
                ["models", "show", "evil"], ["models", "list"],
                ["plot", "evil", "--width", "80", "--height", "12"]]
    failures = []
    for command in commands:
        done = cli(command, home, timeout=120)
        if done.returncode != 0 or raw_control(done.stdout) or raw_control(done.stderr):
            failures.append(f"{command[:2]}: {done.returncode} {done.stderr[-200:]!r}")
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    console.print(card_view("evil:1", hostile_card()))
    if raw_control(console.file.getvalue().encode()):
        failures.append("the TUI's summary pane showed a raw control character")
    return {"what": "a model card (labels, notes, dataset, layers, metrics, history) full of "
                    "escape sequences, OSC links and bidi overrides: `models import`, "
                    "`summary`, `models show`, `models list`, `plot`, the TUI's summary pane",
            "tried": f"{len(commands) + 1} views",
            "held": f"raw control bytes reaching the terminal: {len(failures) and '?' or 0}",
            "failures": failures}


def row_locks(args, work: Path, models: Path) -> dict:
    """Writes that switch RNN_TUI_LOCK between flock, fcntl and lockfile at random."""
    import random

    from test_registry_concurrency import slow_build

    from rnn_tui.registry import Registry

    rng = random.Random(args.seed)
    registry = Registry(work / "models", lock_timeout=5)
    failures, slowest, counts = [], 0.0, {}
    for index in range(args.lock_writes):
        kind = rng.choice(["flock", "fcntl", "lockfile"])
        counts[kind] = counts.get(kind, 0) + 1
        os.environ["RNN_TUI_LOCK"] = kind
        started = time.monotonic()
        try:
            if index % 2 == 0 or not registry.versions("shared"):
                registry.publish("shared", slow_build(0, index, chunks=1))
            else:
                registry.set_alias("shared", "best", registry.versions("shared")[-1])
        except Exception as error:  # noqa: BLE001 (a wedged lock times out: counted)
            failures.append(f"write {index} under {kind}: {error}")
        slowest = max(slowest, time.monotonic() - started)
    os.environ.pop("RNN_TUI_LOCK", None)
    if slowest > 2:
        failures.append(f"a write waited {slowest:.1f} s")
    kinds = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    return {"what": "registry writes switching RNN_TUI_LOCK at random between flock, fcntl "
                    "and lockfile (the empty lock file flock leaves used to wedge lockfile)",
            "tried": f"{args.lock_writes} writes ({kinds})",
            "held": f"{args.lock_writes - len(failures)} done at once (slowest "
                    f"{slowest * 1000:.0f} ms)", "failures": failures}


def row_limits(args, work: Path, models: Path) -> dict:
    """Unbounded and parser-crashing input: /dev/zero, a 5 MiB line, deep JSON, huge ints."""
    from reliability_support import cli

    from rnn_tui.registry import Registry

    home = work / "home"
    Registry(home / "models").publish("imdb-sentiment", models / "imdb-sentiment" / "1")
    failures, tried = [], 0
    predicts = [(["--file", "/dev/zero"], None, "line 1: longer than"),
                ([], b"fine film\n" + b"x" * (5 << 20) + b"\n", "line 2: longer than"),
                (["--file", sys.executable], None, "not valid UTF-8")]
    for options, stdin, expected in predicts:
        tried += 1
        done = cli(["predict", "-m", "imdb-sentiment", *options], home, input=stdin,
                   timeout=120)
        err = done.stderr.decode("utf-8", "replace")
        if done.returncode != 2 or expected not in err or "Traceback" in err \
                or "internal error" in err:
            failures.append(f"predict {options}: {done.returncode} {err[-200:]!r}")
    deep = "[" * 100_000
    files = {"deep.jsonl": '{"text": "a", "label": 1}\n{"text": "b", "label": ' + deep + "}",
             "huge.jsonl": '{"text": "a", "label": ' + "9" * 5000 + "}",
             "deep.json": deep, "huge.csv": "text,label\na," + "9" * 5000 + "\nb,1\n"}
    for name, content in files.items():
        tried += 1
        path = work / name
        path.write_text(content)
        code, _, err = run_main(["data", "show", str(path)])
        if name.endswith(".csv"):  # read whole: the long label is a class name
            ok = code == 0 and "Traceback" not in err
        else:
            ok = one_clean_line(code, err) and f"{path}:" in err
        if not ok:
            failures.append(f"{name}: {code} {err[-200:]!r}")
    return {"what": "input with no end or no bounds: `predict --file /dev/zero`, a 5 MiB "
                    "line on stdin, a binary file; JSONL nested 100,000 deep, 5,000-digit "
                    "labels in JSONL/CSV, a deep JSON array",
            "tried": f"{tried} inputs", "held": f"{tried - len(failures)} handled: one clear "
            "line naming file (and line), exit 2, at most 4 MiB held per line (the CSV's long "
            "label read as a class name)", "failures": failures}


def row_unwritable(args, work: Path, models: Path) -> dict:
    """A registry on a read-only mount (root) or without write permission."""
    import subprocess

    from reliability_support import cli, one_line_error, registry_snapshot, train_args

    from rnn_tui.registry import Registry

    home = work / "home"
    root = home / "models"
    root.mkdir(parents=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "rnn-tui-bench", str(root)],
        capture_output=True).returncode == 0
    Registry(root).publish("small", models / "imdb-sentiment" / "1")
    archive = Registry(root).export("small", work / "small.tar.gz")
    failures, tried = [], 0
    try:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
        else:
            for folder, _, _ in os.walk(root):
                os.chmod(folder, 0o555)
        before = registry_snapshot(root)
        for command in (["models", "alias", "small", "best", "1"],
                        ["models", "tag", "small:1", "x"], ["models", "rm", "small:1", "-y"],
                        ["models", "import", "copy", str(archive)],
                        [a for a in train_args("small", epochs=1, train_size=64)
                         if a != "--json"]):
            tried += 1
            done = cli(command, home, timeout=300)
            try:
                line = one_line_error(done)
                ok = done.returncode == 1 and f"model registry {root}" in line
            except AssertionError:
                ok = False
            if not ok:
                failures.append(f"{command[:2]}: {done.returncode} {done.stderr[-300:]!r}")
        if registry_snapshot(root) != before:
            failures.append("the registry changed")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(root)], check=False)
        else:
            for folder, _, _ in os.walk(root):
                os.chmod(folder, 0o755)
    how = "a read-only mount (EROFS)" if mounted else "no write permission (EACCES)"
    return {"what": f"a registry that cannot be written, {how}: `models alias`, `tag`, "
                    "`rm`, `import` of an archive, `train` publishing",
            "tried": f"{tried} commands", "held": f"{tried - len(failures)} one line naming "
            "the registry and the reason, exit 1; registry unchanged", "failures": failures}


def row_durable(args, work: Path, models: Path) -> dict:
    """The order of fsync and rename calls, recorded while publishing and importing."""
    import pytest

    from test_reliability_durability import check_published_durably, record_calls

    from rnn_tui.registry import Registry

    registry = Registry(work / "models")
    elsewhere = Registry(work / "elsewhere")
    archive = elsewhere.export(elsewhere.publish("source", models / "reuters-topics" / "1"),
                               work / "topics.zip")
    failures = []
    for index in range(args.durable):
        patch = pytest.MonkeyPatch()
        calls = record_calls(patch)
        try:
            if index % 2:
                version = registry.import_archive(archive, f"imported-{index}")
            else:
                version = registry.publish(f"published-{index % 4}",
                                           models / "imdb-sentiment" / "1")
        finally:
            patch.undo()
        try:
            check_published_durably(calls, version.path, new_model=False)
        except AssertionError as error:
            failures.append(f"{version.ref}: {str(error)[:200]}")
    return {"what": "fsync and rename calls recorded while publishing and importing real "
                    "versions: every file and folder flushed before the rename, the model "
                    "folder after it", "tried": f"{args.durable} versions",
            "held": f"{args.durable - len(failures)} in that order (a power loss leaves the "
                    "version whole or absent)", "failures": failures}


def row_smaller(args, work: Path, models: Path) -> dict:
    """Archive bombs, a rewritten runtime.npz, Windows names, fullwidth digits, links."""
    import numpy as np

    from test_reliability_smaller import bomb_archive, class_folder_corpus

    from rnn_tui.errors import DataError, UserError
    from rnn_tui.registry import Registry

    home = work / "home"
    os.environ["RNN_TUI_HOME"] = str(home)
    registry = Registry(home / "models")
    failures, tried = [], 0

    def refused(call, expected: str, what: str) -> None:
        nonlocal tried
        tried += 1
        try:
            call()
            failures.append(f"{what}: accepted")
        except (DataError, UserError) as error:
            if expected not in str(error):
                failures.append(f"{what}: {error}")

    for kind in ("tar", "zip"):
        path = bomb_archive(work, kind)
        refused(lambda: registry.import_archive(path), "compression bomb", f"{kind} bomb")
        if (home / "models" / ".staging").exists() and any(
                (home / "models" / ".staging").iterdir()):
            failures.append(f"{kind} bomb: something was extracted")
    version = registry.publish("imdb-sentiment", models / "imdb-sentiment" / "1")
    runtime = version.path / "runtime.npz"
    with np.load(runtime) as loaded:
        arrays = {key: (-loaded[key] if loaded[key].dtype.kind == "f" else loaded[key])
                  for key in loaded.files}
    with open(runtime, "wb") as handle:
        np.savez(handle, **arrays)
    for args_ in (["predict", "-m", "imdb-sentiment", "great"],):
        tried += 1
        code, _, err = run_main(args_)
        if not (one_clean_line(code, err) and "sha256" in err):
            failures.append(f"rewritten runtime: {code} {err!r}")
    names = ["con", "nul", "com1", "lpt9.txt", "aux.tar", "name.", "m:１", "m:²", "m:٣"]
    for name in names:
        tried += 1
        command = ["models", "show", name] if ":" in name else [
            "models", "alias", name, "best", "1"]
        code, _, err = run_main(command)
        if not one_clean_line(code, err):
            failures.append(f"{name}: {code} {err!r}")
    corpus, secret = class_folder_corpus(work / "folders")
    (corpus / "pos" / "leak.txt").symlink_to(secret)
    (corpus / "etc").symlink_to(work)
    tried += 1
    code, out, err = run_main(["data", "show", str(corpus)])
    if not one_clean_line(code, err) or "password" in out + err:
        failures.append(f"folder links: {code} {err!r}")
    return {"what": "zip and tar.gz bombs (256 MiB of zeros in ~250 kB), a valid runtime.npz "
                    "with other weights, Windows device names and a trailing dot, fullwidth "
                    "and superscript version digits, a folder corpus linking out",
            "tried": f"{tried} inputs", "held": f"{tried - len(failures)} refused in one "
            "line; bombs before extracting a byte", "failures": failures}


def row_downloads(args, work: Path, models: Path) -> dict:
    """`data fetch` from a loopback server that drops connections at random."""
    import hashlib
    import http.server
    import random
    import threading
    from dataclasses import replace

    from rich.console import Console
    from test_reliability_downloads import BODY, TARGET, CuttingHandler

    from rnn_tui.data import catalog, store
    from rnn_tui.data.catalog import Download
    from rnn_tui.errors import DataError, RnnTuiError

    rng = random.Random(args.seed)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CuttingHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    store.RETRY_PAUSE_S = 0.0
    home = work / "data"
    failures, outcomes = [], {"resumed": 0, "restarted": 0, "whole": 0, "refused": 0,
                              "gave up": 0}
    good = hashlib.sha256(BODY).hexdigest()
    try:
        for index in range(args.downloads):
            pinned = rng.random() < 0.5
            download = Download(f"http://127.0.0.1:{httpd.server_address[1]}/{index}",
                                TARGET, sha256=good if pinned else None)
            info = catalog.CORPORA["nsmc"]
            catalog.CORPORA["nsmc"] = replace(info, downloads={"tsv": (download,)})
            tampered = index > 0 and rng.random() < 0.15
            CuttingHandler.body = BODY.replace(b"\t1\n", b"\t0\n") if tampered else BODY
            CuttingHandler.cuts = rng.choice([0, 0, 1, 2, 3, 5])
            CuttingHandler.cut_at = rng.randrange(1, len(BODY))
            CuttingHandler.ranges = rng.random() < 0.7
            CuttingHandler.requests = []
            before = (home / TARGET).read_bytes() if (home / TARGET).exists() else None
            try:
                store.fetch("nsmc", force=True, data_home=home,
                            console=Console(file=io.StringIO()))
                if (home / TARGET).read_bytes() != CuttingHandler.body or (
                        tampered and before is not None):
                    failures.append(f"download {index}: wrong bytes kept")
                elif len(CuttingHandler.requests) == 1:
                    outcomes["whole"] += 1
                elif CuttingHandler.ranges:
                    outcomes["resumed"] += 1
                else:
                    outcomes["restarted"] += 1
            except DataError:
                outcomes["refused"] += 1
                if not tampered or (home / TARGET).read_bytes() != before:
                    failures.append(f"download {index}: refused wrongly or copy replaced")
            except RnnTuiError:
                outcomes["gave up"] += 1
                if CuttingHandler.cuts < 1 or (before is not None and
                                               (home / TARGET).read_bytes() != before):
                    failures.append(f"download {index}: gave up wrongly or copy replaced")
            if any(".tmp" in p.name for p in home.rglob("*")):
                failures.append(f"download {index}: a temporary file was left")
            if not tampered and (home / TARGET).exists() and \
                    (home / TARGET).read_bytes() != BODY:
                (home / TARGET).write_bytes(BODY)  # a tampered first download: start clean
    finally:
        httpd.shutdown()
        httpd.server_close()
    held = ", ".join(f"{v} {k}" for k, v in outcomes.items() if v)
    return {"what": "`data fetch` from a loopback HTTP server that drops the connection at "
                    "random byte counts (0-5 times), with and without Range support, and "
                    "sometimes serves a changed file (pinned sha256 or first-download record)",
            "tried": f"{args.downloads} downloads", "held": f"{held}; changed files never "
            "replaced the copy, no partial file left", "failures": failures}


def row_fuzz(args, work: Path, models: Path) -> dict:
    """The hypothesis fuzz targets of tests/test_reliability_fuzz.py, with more inputs."""
    os.environ["RNN_TUI_FUZZ_EXAMPLES"] = str(args.fuzz)
    os.environ["RNN_TUI_FUZZ_SERVE_EXAMPLES"] = str(args.fuzz_serve)
    import importlib

    fuzz = importlib.import_module("test_reliability_fuzz")
    failures = []
    targets = [name for name in dir(fuzz) if name.startswith("test_fuzz_")]
    for name in targets:
        try:
            getattr(fuzz, name)()
        except Exception as error:  # noqa: BLE001 (a failing input: reported)
            failures.append(f"{name}: {type(error).__name__}: {str(error)[:300]}")
    total = sum(fuzz.INPUTS.values())
    per = ", ".join(f"{k} {v}" for k, v in sorted(fuzz.INPUTS.items()))
    return {"what": "hypothesis fuzz targets per parser: CSV, TSV, JSONL/JSON and folder "
                    "corpora (also through `data show`), card.json read and shown, vocabulary "
                    "JSON, archive manifests; HTTP requests to `serve` on the shipped models "
                    "(JSON bodies, raw bodies and content types, paths and methods)",
            "tried": f"{total} inputs ({per})",
            "held": f"{total if not failures else '?'} parsed or refused with "
                    "DataError/UserError, requests answered or refused with a JSON 4xx (a good "
                    "request answered after each); internal errors, tracebacks, 500s and raw "
                    f"control characters in answers: {len(failures)}", "failures": failures}


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # The defaults keep the full run within 10 minutes on the shared 2-core machine (40
    # kills and 25 predict calls alone took over 10 when other jobs ran).
    parser.add_argument("--kills", type=int, default=20, help="training kills [20]")
    parser.add_argument("--publish-kills", type=int, default=40,
                        help="random publisher kills, besides one per step [40]")
    parser.add_argument("--predict-calls", type=int, default=15,
                        help="predict calls per process (8 processes) [15]")
    parser.add_argument("--races", type=int, default=5, help="@best races [5]")
    parser.add_argument("--lock-writes", type=int, default=40,
                        help="registry writes switching lock kinds [40]")
    parser.add_argument("--durable", type=int, default=20,
                        help="publishes and imports whose fsync/rename order is checked [20]")
    parser.add_argument("--downloads", type=int, default=40,
                        help="downloads from a server that drops connections [40]")
    parser.add_argument("--fuzz", type=int, default=600, help="fuzz inputs per parser [600]")
    parser.add_argument("--fuzz-serve", type=int, default=1000,
                        help="fuzz inputs per serve target (3 targets) [1000]")
    parser.add_argument("--quick", action="store_true",
                        help="every row with small counts (CI): " + ", ".join(
                            f"{k.replace('_', '-')} {v}" for k, v in QUICK.items()))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help=f"comma list of rows: {','.join(ROWS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "reliability")
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    rows = args.only.split(",") if args.only else list(ROWS)
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {', '.join(unknown)} (known: {', '.join(ROWS)})")
    began = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    models = tiny_models(args.out) if set(rows) - ROWS_WITHOUT_MODELS else Path()
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
    total = time.monotonic() - began
    print(f"all rows: {total:.0f} s ({total / 60:.1f} min); failures "
          f"{sum(len(row['failures']) for row in results)}", file=sys.stderr)
    print("| campaign | tried | held | failed | data lost | time |")
    print("|---|---|---|---|---|---|")
    for row in results:
        print(f"| {row['what']} | {row['tried']} | {row['held']} | {len(row['failures'])} | "
              f"{'0' if not row['failures'] else 'see failures'} | {row['seconds']:.0f} s |")


if __name__ == "__main__":
    main()
