"""Fault injection, registry audits and load campaigns shared by tests/test_reliability_*.py
and bench/reliability.py (which runs the same campaigns with bigger counts).

Everything here drives the real product: ``python -m rnn_tui ...`` in subprocesses, real
registries on disk, real SIGKILLs. Counts and seeds are parameters, so CI runs a bounded
campaign and the bench a longer one.

- ``cli``: the real CLI in a subprocess (bytes in, bytes out).
- ``audit_registry``: what a reader could see wrong in a registry folder.
- ``disk_full_after``: writes under a folder fail with ENOSPC once a byte budget is spent.
- ``publish_kill_campaign``: writers SIGKILLed at every step of publishing, and at random.
- ``training_kill_campaign``: ``rnn-tui train --json`` SIGKILLed at random and at injected
  points (epoch, checkpoint/backup writing, publish, cleanup), resumed until done.
- ``predict_while_publishing``: N ``rnn-tui predict`` loops while another process publishes.
- ``two_trainers``: two trainings of one model name at once, sharing one registry.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------- the CLI
def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: its own home, no shipped models."""
    env = {**os.environ, "RNN_TUI_HOME": str(home), "RNN_TUI_SHIPPED_MODELS": "",
           "PYTHONPATH": str(CHECKOUT)}
    env.pop("RNN_TUI_DEBUG", None)
    env.update(extra)
    return env


def cli(args: list[str], home: Path, *, input: bytes | None = None, timeout: float = 300,
        **extra_env: str) -> subprocess.CompletedProcess:
    """``rnn-tui ARGS`` in a subprocess; stdout and stderr as bytes."""
    return subprocess.run([sys.executable, "-m", "rnn_tui", *args], input=input,
                          capture_output=True, timeout=timeout, env=cli_env(home, **extra_env))


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The single ``rnn-tui: error: ...`` line of a failed command (asserts it is one line,
    without a traceback)."""
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("rnn-tui: error: "), err
    return lines[0]


# ---------------------------------------------------------------------------- registry audits
TEMP_MARKERS = (".tmp",)


def audit_registry(root: Path, *, allow_leftovers: bool = True) -> list[str]:
    """Problems a reader could meet in the registry at ``root`` ([] when all is well).

    Every visible version must have its card and every file the card lists, with matching
    sha256; aliases must point at existing versions; no temporary file may sit where readers
    look. Staging and trash folders are invisible to readers; with ``allow_leftovers=False``
    they (and temp files anywhere) count as problems too (after a clean failure nothing may
    be left).
    """
    from rnn_tui.errors import DataError, NotFoundError
    from rnn_tui.registry import Registry

    problems: list[str] = []
    registry = Registry(root)
    if not root.exists():
        return problems
    for name in registry._name_dirs():
        folder = root / name
        for entry in sorted(os.listdir(folder)):
            path = folder / entry
            if entry.isdigit():
                if not path.is_dir() or path.is_symlink():
                    problems.append(f"{path}: a version entry that is not a folder")
                continue
            if entry in ("aliases.json", "tags.json", ".last_version"):
                continue
            if entry.startswith(".") and entry.endswith(TEMP_MARKERS):
                if not allow_leftovers:  # hidden from readers; swept by the next writer
                    problems.append(f"{path}: temporary file left")
                continue
            problems.append(f"{path}: stray entry in a model folder")
        for version in registry.list_versions(name):
            try:
                version.verify()
                card = version.card
                assert card["name"] == name and card["version"] == version.version, card
            except (DataError, NotFoundError, AssertionError) as error:
                problems.append(f"{version.ref}: {error}")
        try:
            for alias, number in registry.aliases(name).items():
                if number not in registry.versions(name):
                    problems.append(f"{name}@{alias} points at missing version {number}")
        except DataError as error:
            problems.append(str(error))
    if not allow_leftovers:
        for hidden in (".staging", ".trash"):
            with contextlib.suppress(FileNotFoundError):
                for entry in os.listdir(root / hidden):
                    problems.append(f"{root / hidden / entry}: left behind")
        for directory, _, files in os.walk(root):
            for file_name in files:
                if file_name.endswith(TEMP_MARKERS):
                    problems.append(f"{Path(directory) / file_name}: temporary file left")
    return problems


def registry_snapshot(root: Path) -> dict[str, dict[int, dict[str, str]]]:
    """``{name: {version: card files}}``: what must not change when a publish fails."""
    from rnn_tui.registry import Registry

    registry = Registry(root)
    return {name: {v.version: dict(v.card["files"]) for v in registry.list_versions(name)}
            for name in registry.names()}


# ---------------------------------------------------------------------------- disk full
class _MeteredFile:
    """A file opened for writing whose writes draw on a shared byte budget."""

    def __init__(self, handle: Any, meter: DiskMeter, name: str):
        self._handle = handle
        self._meter = meter
        self._name = name

    def write(self, data: Any) -> int:
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
        allowed = self._meter.take(size)
        if allowed < size:
            if allowed:
                self._handle.write(data[:allowed])
            self._meter.failures += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._name)
        return self._handle.write(data)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __enter__(self) -> _MeteredFile:
        self._handle.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._handle.__exit__(*exc)

    def __iter__(self):
        return iter(self._handle)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._handle, attribute)


@dataclass
class DiskMeter:
    """How many bytes may still be written under ``root``."""

    root: Path
    budget: int
    written: int = 0
    failures: int = 0

    def take(self, size: int) -> int:
        allowed = max(0, min(size, self.budget - self.written))
        self.written += allowed
        return allowed


@contextlib.contextmanager
def disk_full_after(root: Path, budget: int) -> Iterator[DiskMeter]:
    """In this process, files opened for writing under ``root`` fail with ENOSPC once
    ``budget`` bytes have been written there (the write that crosses it writes what fits,
    as a real full disk does). Python-level writes only: ``open``/``io.open`` (pathlib,
    zipfile, json, NumPy's savez, Keras' .keras writer) and shutil copies."""
    meter = DiskMeter(Path(root).resolve(), budget)
    real_open = io.open

    def metered_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if any(flag in mode for flag in "wax+") and isinstance(file, (str, os.PathLike)):
            path = Path(os.fspath(file)).resolve()
            if path == meter.root or meter.root in path.parents:
                return _MeteredFile(handle, meter, str(path))
        return handle

    saved = (builtins.open, io.open, shutil._USE_CP_SENDFILE)
    builtins.open = io.open = metered_open
    shutil._USE_CP_SENDFILE = False  # copies go through write(), so they are metered
    try:
        yield meter
    finally:
        builtins.open, io.open, shutil._USE_CP_SENDFILE = saved


# ---------------------------------------------------------------------------- publish kills
PUBLISH_CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    from rnn_tui.registry import Registry
    from rnn_tui.registry import folder as store
    from rnn_tui import fileio

    root, source, name, point = sys.argv[1:5]
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 1

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "copy":                       # half-way through copying the model files
        import shutil
        real_copy = shutil.copy2
        count = [0]
        def copy2(src, dst, **kw):
            count[0] += 1
            if count[0] == 2:
                with open(dst, "wb") as handle:
                    handle.write(Path(src).read_bytes()[:100])
                die()
            return real_copy(src, dst, **kw)
        shutil.copy2 = copy2
    elif point in ("card", "counter", "aliases", "generation"):
        target = {"card": "card.json", "counter": ".last_version", "aliases": "aliases.json",
                  "generation": ".generation"}[point]
        real_write = fileio.atomic_write_text
        def atomic_write_text(path, text, encoding="utf-8"):
            if Path(path).name == target:
                with open(Path(path).with_name("." + target + ".half.tmp"), "w") as handle:
                    handle.write(text[: len(text) // 2])
                die()
            return real_write(path, text, encoding)
        store.atomic_write_text = atomic_write_text
    elif point in ("rename-before", "rename-after"):
        real_move = store._move_into_place
        def move(source_path, target_path):
            if point == "rename-after":
                real_move(source_path, target_path)
            die()
        store._move_into_place = move
    elif point == "timer":
        pass                                  # the parent kills at a random moment

    registry = Registry(root)
    for _ in range(repeat):
        version = registry.publish(name, source, aliases=["newest"], tags=["kill-test"])
        print(version.ref, flush=True)
""")

PUBLISH_POINTS = ("copy", "card", "counter", "rename-before", "rename-after", "aliases",
                  "generation")


@dataclass
class CampaignResult:
    """What a campaign did and found (the bench prints these)."""

    injected: int = 0  # faults injected (kills, full disks ...)
    survived: int = 0  # after which every check held
    operations: int = 0  # successful operations in between (publishes, predictions ...)
    failures: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.failures.append(message)


def _expect_complete_or_absent(root: Path, name: str, before: set[int],
                               result: CampaignResult, what: str) -> None:
    from rnn_tui.registry import Registry

    problems = audit_registry(root)
    if problems:
        result.fail(f"{what}: {problems}")
        return
    registry = Registry(root)
    new = set(registry.versions(name)) - before
    if len(new) > 1:
        result.fail(f"{what}: one publish made {sorted(new)}")
    result.survived += 1


def publish_kill_campaign(root: Path, source: Path, *, random_kills: int, seed: int = 0,
                          name: str = "victim") -> CampaignResult:
    """Kill publishers at every step of publishing (``PUBLISH_POINTS``), then at random
    moments of a publishing loop (``random_kills`` times); after each kill the version is
    either complete or absent, nothing else is visible, and the next publish works."""
    from rnn_tui.registry import Registry

    rng = random.Random(seed)
    result = CampaignResult()
    registry = Registry(root)
    script = [sys.executable, "-c", PUBLISH_CHILD, str(root), str(source), name]
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    for point in PUBLISH_POINTS:
        before = set(registry.versions(name))
        done = subprocess.run([*script, point], capture_output=True, timeout=120, env=env)
        if done.returncode != -signal.SIGKILL:
            result.fail(f"{point}: the writer was not killed ({done.returncode}): "
                        f"{done.stderr.decode()[-500:]}")
            continue
        result.injected += 1
        _expect_complete_or_absent(root, name, before, result, point)
        expected_new = point in ("rename-after", "aliases", "generation")
        if (set(registry.versions(name)) - before) != set() and not expected_new:
            result.fail(f"{point}: a version became visible before its rename")
        if expected_new and not set(registry.versions(name)) - before:
            result.fail(f"{point}: the renamed version is not visible")
    for _ in range(random_kills):
        before = set(registry.versions(name))
        process = subprocess.Popen([*script, "timer", "1000"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=env)
        # Let it import and publish a few versions first, then kill at a random moment.
        first = process.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.25))
        process.kill()
        out, err = process.communicate(timeout=60)
        if process.returncode != -signal.SIGKILL:
            result.fail(f"timer: the writer ended by itself ({process.returncode}): "
                        f"{err.decode()[-500:]}")
            continue
        result.injected += 1
        published = [line for line in (first + out).decode().split() if line]
        result.operations += len(published)
        problems = audit_registry(root)
        if problems:
            result.fail(f"timer: {problems}")
            continue
        visible = set(registry.versions(name)) - before
        reported = {int(ref.split(":")[1]) for ref in published}
        # everything reported is visible; at most one more (renamed but not yet printed)
        if not reported <= visible or len(visible - reported) > 1:
            result.fail(f"timer: reported {sorted(reported)}, visible {sorted(visible)}")
            continue
        result.survived += 1
    # After all that, publishing still works, numbers were never reused, no leftovers stay
    # (temporary generation files go once they are a minute old: as if a minute passed).
    for temp in root.glob(".*.tmp"):
        os.utime(temp, (time.time() - 120, time.time() - 120))
    version = registry.publish(name, source)
    numbers = registry.versions(name)
    if version.version != max(numbers) or len(numbers) != len(set(numbers)):
        result.fail(f"after the campaign: versions {numbers}, published {version.ref}")
    leftovers = audit_registry(root, allow_leftovers=False)
    if leftovers:
        result.fail(f"after the campaign: {leftovers}")
    result.details["versions"] = len(numbers)
    return result


# ---------------------------------------------------------------------------- training kills
TRAIN_CHILD = textwrap.dedent("""
    # rnn-tui train, with an optional fault: KILL_PLAN="kind:what:epoch:when"
    import fnmatch, json, os, signal, sys
    from pathlib import Path

    plan = os.environ.get("KILL_PLAN", "")
    kind, what, epoch, when = (plan.split(":") + ["", "", "0", ""])[:4] if plan else ("",) * 4
    epoch = int(epoch or 0)
    seen = {"epoch": 0}

    def die():
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    from rnn_tui.train import render
    original_renderer = render.renderer_for

    def renderer_for(mode, stream=None):
        writer = original_renderer("json", stream)
        def handle(event):
            writer(event)
            if type(event).__name__ == "EpochEnded":
                seen["epoch"] = event.epoch
        return handle
    render.renderer_for = renderer_for

    if kind == "replace":                     # around an atomic rename of a run-folder file
        real_replace = os.replace
        def replace(source, target, *args, **kwargs):
            hit = fnmatch.fnmatch(Path(target).name, what) and seen["epoch"] == epoch
            if hit and when == "before":
                die()
            result = real_replace(source, target, *args, **kwargs)
            if hit and when == "after":
                die()
            return result
        os.replace = replace
    elif kind == "publish":
        from rnn_tui.registry import folder as store
        from rnn_tui.train import publish
        if what == "files":                   # model.keras staged, the rest not yet
            publish.export_runtime_weights = lambda *args, **kwargs: die()
        elif what == "rename":
            real_move = store._move_into_place
            def move(source, target):
                if when == "after":
                    real_move(source, target)
                die()
            store._move_into_place = move
        elif what == "aliases":               # renamed, its aliases not yet written
            store.Registry._write_aliases = lambda self, name, aliases: die()
    elif kind == "discard":                   # published; the run folder being removed
        from rnn_tui.train import runs
        real_discard = runs.RunFolder.discard
        def discard(self, keep_lock=False):
            if keep_lock:                     # a restart's cleanup, not the final one
                return real_discard(self, keep_lock)
            if when == "before":
                die()
            real_rmtree = runs.shutil.rmtree
            def rmtree(path, *args, **kwargs):  # the first sub-folder goes, then death
                real_rmtree(path, *args, **kwargs)
                die()
            runs.shutil.rmtree = rmtree
            real_discard(self, keep_lock)
            die()
        runs.RunFolder.discard = discard

    from rnn_tui.cli import main
    main(sys.argv[1:])
""")


def train_args(name: str, *, epochs: int, train_size: int, seed: int = 7) -> list[str]:
    """A tiny deterministic training: GRU(4) on the multiplication task, with validation
    (so there are best-checkpoints) and dropout (so the saved RNG state matters)."""
    return ["train", "--dataset", "multiplication", "--dataset-option",
            f"train_size={train_size}", "--dataset-option", "test_size=32",
            "--dataset-option", "length=8", "--arch", "gru:4,dropout=0.2 dense:4",
            "--epochs", str(epochs), "--batch-size", "16", "--validation", "0.25",
            "--seed", str(seed), "--name", name, "--json"]


@dataclass
class Attempt:
    """One ``rnn-tui train`` process and what it said before it ended."""

    plan: str
    events: list[dict[str, Any]]
    returncode: int
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]

    @property
    def resumed_from(self) -> int | None:
        started = self.of("RunStarted")
        return started[0]["resumed_from"] if started else None


def _read_events(stream: bytes) -> list[dict[str, Any]]:
    events = []
    for line in stream.decode("utf-8", "replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line cut by the kill
            events.append(json.loads(line))
    return events


def _run_attempt(script: Path, args: list[str], home: Path, plan: str, rng: random.Random,
                 timeout: float = 600) -> Attempt:
    """Start the training; for an ``event:`` plan, kill it when that event comes (after a
    random delay); injected plans kill themselves."""
    env = cli_env(home, KILL_PLAN=plan if not plan.startswith("event:") else "")
    process = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    chunks: list[bytes] = []
    stderr: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)
    reader.start()
    trigger = None
    if plan.startswith("event:"):
        _, kind, epoch, delay = plan.split(":")
        trigger = (kind, int(epoch), float(delay))
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        chunks.append(line)
        if trigger is not None:
            with contextlib.suppress(json.JSONDecodeError):
                event = json.loads(line)
                kind, epoch, delay = trigger
                if event.get("event") == kind and event.get("epoch", 0) >= epoch:
                    time.sleep(delay)
                    process.kill()
                    trigger = None
        if time.monotonic() > deadline:
            process.kill()
    chunks.append(process.stdout.read())
    process.wait(timeout=60)
    reader.join(timeout=60)
    return Attempt(plan, _read_events(b"".join(chunks)), process.returncode,
                   b"".join(stderr).decode("utf-8", "replace"))


def _choose_plan(rng: random.Random, done: int, epochs: int) -> str:
    """A kill plan for a run with ``done`` epochs finished (seeded)."""
    after_fit = [
        f"event:RunStarted:0:{rng.uniform(0, 1.0):.3f}",
        f"replace:final.weights.h5:{epochs}:{rng.choice(['before', 'after'])}",
        "publish:files:0:",
        f"publish:rename:0:{rng.choice(['before', 'after'])}",
        "publish:aliases:0:",
        f"discard:run:0:{rng.choice(['before', 'mid'])}",
    ]
    if done >= epochs:
        return rng.choice(after_fit)
    k = rng.randint(done + 1, epochs)  # an epoch this session will reach
    choices = [
        f"event:EpochStarted:{k}:{rng.uniform(0, 0.3):.3f}",     # during an epoch
        f"event:BatchEnded:{k}:{rng.uniform(0, 0.1):.3f}",       # during an epoch
        f"event:EpochEnded:{k}:{rng.uniform(0, 0.05):.3f}",      # state/checkpoint/backup
        f"event:RunStarted:0:{rng.uniform(0, 1.5):.3f}",         # building, first epoch
        f"replace:training_metadata.json:{k}:{rng.choice(['before', 'after'])}",
        f"replace:epoch-*.weights.h5:{k}:before",                # backup weights, no metadata
        f"replace:state.json:{k}:{rng.choice(['before', 'after'])}",
        f"replace:best.weights.h5:{k}:before",
        f"replace:final.weights.h5:{epochs}:{rng.choice(['before', 'after'])}",
        "publish:files:0:",
        f"publish:rename:0:{rng.choice(['before', 'after'])}",
        "publish:aliases:0:",
        f"discard:run:0:{rng.choice(['before', 'mid'])}",
    ]
    weights = [3, 2, 3, 1, 2, 1, 2, 1, 1, 1, 2, 1, 1]
    return rng.choices(choices, weights)[0]


def _backup_epoch(run_dir: Path) -> int:
    from rnn_tui.train.callbacks import read_backup_epoch

    return read_backup_epoch(run_dir / "backup")


def training_kill_campaign(home: Path, *, kills: int, seed: int = 0, epochs: int = 4,
                           train_size: int = 256, log=None,
                           max_attempts: int | None = None) -> CampaignResult:
    """SIGKILL ``rnn-tui train --json`` ``kills`` times at seeded random points, resuming
    with the same command until each training is published; then compare every model with
    an uninterrupted run of the same seed.

    The resume rule (from the engine's callback order: the EpochEnded event is written and
    flushed, then state.json, the best checkpoint, and last the backup whose metadata names
    the epoch): with E the last EpochEnded in the killed process' stream,

    - the next run's ``resumed_from`` equals the epoch in the backup's metadata on disk, and
      that is E, or E - 1 when the kill fell between EpochEnded(E) and the metadata rename
      (no later event in the stream, except CheckpointSaved(E));
    - with no EpochEnded in the stream, it is where this process had resumed from;
    - a run killed after fit() saved its final weights does not train again, and a run whose
      version became visible before the kill is not published again.

    After every attempt the registry must audit clean (complete versions only); at the end
    each training has exactly one version, its history has every epoch and equals the
    uninterrupted run's.
    """
    rng = random.Random(seed)
    result = CampaignResult()
    script = home / "train_child.py"
    home.mkdir(parents=True, exist_ok=True)
    script.write_text(TRAIN_CHILD)
    root = home / "models"
    say = log or (lambda text: None)
    trainings: dict[str, dict[str, Any]] = {}
    attempts_left = max_attempts or kills * 4 + 10
    index = 0
    plans_seen: dict[str, int] = {}
    while result.injected < kills and attempts_left > 0:
        name = f"victim-{index}"
        index += 1
        args = train_args(name, epochs=epochs, train_size=train_size)
        run_dir = home / "runs" / name
        done = 0  # epochs finished, as the engine will resume
        sessions = 0
        versions_before = set()
        published_ref = None
        while attempts_left > 0:
            attempts_left -= 1
            failures_before = len(result.failures)
            plan = _choose_plan(rng, done, epochs) if result.injected < kills else ""
            attempt = _run_attempt(script, args, home, plan, rng)
            sessions += 1
            kind = plan.split(":")[0] if plan else "none"
            if attempt.resumed_from is not None and attempt.resumed_from != done:
                result.fail(f"{name} attempt {sessions} ({plan}): resumed from "
                            f"{attempt.resumed_from}, expected {done}")
            if attempt.resumed_from is not None and done == epochs and attempt.of(
                    "EpochStarted"):
                result.fail(f"{name}: trained again after every epoch was done")
            problems = audit_registry(root)
            if problems:
                result.fail(f"{name} after {plan or 'a clean run'}: {problems}")
            from rnn_tui.registry import Registry

            visible = set(Registry(root).versions(name))
            new = visible - versions_before
            if published_ref is not None and new - {int(published_ref.split(':')[1])}:
                result.fail(f"{name}: published again after {published_ref} ({sorted(new)})")
            if len(new) > 1:
                result.fail(f"{name}: {len(new)} versions for one training")
            if not attempt.killed:
                if attempt.returncode != 0:
                    result.fail(f"{name} ({plan or 'no fault'}): exit {attempt.returncode}: "
                                f"{attempt.stderr[-800:]}")
                    break
                finished = attempt.of("RunFinished")
                if not finished or not new:
                    result.fail(f"{name}: finished without a version ({finished})")
                    break
                result.operations += 1
                trainings[name] = {"ref": finished[-1]["model_ref"], "sessions": sessions}
                say(f"{name}: published {finished[-1]['model_ref']} after {sessions} session(s)")
                if plan:
                    result.details.setdefault("not_triggered", []).append(plan)
                break
            # killed: work out where the next run must resume
            result.injected += 1
            plans_seen[kind] = plans_seen.get(kind, 0) + 1
            ended = [e["epoch"] for e in attempt.of("EpochEnded")]
            last = max(ended) if ended else done
            on_disk = _backup_epoch(run_dir)
            later = attempt.events[[i for i, e in enumerate(attempt.events)
                                    if e.get("event") == "EpochEnded"][-1] + 1:] if ended else []
            after_backup = any(e.get("event") not in ("CheckpointSaved",) for e in later)
            allowed = {last} if (after_backup or not ended) else {last - 1, last}
            if not (home / "runs" / name / "config.json").exists() and new:
                # killed while removing a published run's folder: the command is done
                trainings[name] = {"ref": f"{name}:{max(new)}", "sessions": sessions}
                result.survived += len(result.failures) == failures_before
                say(f"{name}: killed ({plan}) after publishing {name}:{max(new)}; done")
                break
            if new:
                published_ref = f"{name}:{max(new)}"
            if on_disk not in allowed:
                result.fail(f"{name} ({plan}): backup holds epoch {on_disk}, the stream "
                            f"allows {sorted(allowed)}")
            expected = _expected_for(plan, last)
            if expected is not None and on_disk != expected and ended:
                result.fail(f"{name} ({plan}): backup holds epoch {on_disk}, the injected "
                            f"point implies {expected}")
            done = on_disk
            say(f"{name}: killed ({plan}) after epoch {last}; resumes from {done}")
            result.survived += len(result.failures) == failures_before
    result.details["plans"] = plans_seen
    result.details["trainings"] = trainings
    _compare_with_uninterrupted(home, trainings, epochs, train_size, result, say)
    return result


def _expected_for(plan: str, last: int) -> int | None:
    """The backup epoch an injected kill implies (None: only the stream rule applies)."""
    parts = plan.split(":")
    if parts[0] != "replace":
        return None
    what, when = parts[1], parts[3]
    if what == "training_metadata.json":
        return last if when == "after" else last - 1
    if what in ("epoch-*.weights.h5", "state.json", "best.weights.h5"):
        return last - 1
    return None


def _compare_with_uninterrupted(home: Path, trainings: dict[str, dict[str, Any]], epochs: int,
                                train_size: int, result: CampaignResult, say) -> None:
    from rnn_tui.registry import Registry

    if not trainings:
        return
    straight = cli(train_args("straight", epochs=epochs, train_size=train_size), home)
    if straight.returncode != 0:
        result.fail(f"the uninterrupted run failed: {straight.stderr.decode()[-800:]}")
        return
    registry = Registry(home / "models")
    reference = registry.resolve("straight").card
    for name, info in trainings.items():
        versions = registry.versions(name)
        if len(versions) != 1:
            result.fail(f"{name}: {len(versions)} versions ({versions}), expected one")
            continue
        card = registry.resolve(name).card
        history = card["history"]
        if any(len(series) != epochs for series in history.values()):
            result.fail(f"{name}: history lost epochs: { {k: len(v) for k, v in history.items()} }")
        if history != reference["history"]:
            result.fail(f"{name}: history differs from the uninterrupted run's")
        if card["metrics"]["test"] != reference["metrics"]["test"]:
            result.fail(f"{name}: test metrics {card['metrics']['test']} differ from the "
                        f"uninterrupted run's {reference['metrics']['test']}")
        if registry.aliases(name).get("best") != versions[0]:
            result.fail(f"{name}: @best is {registry.aliases(name)}, not version {versions[0]}")
        verified = cli(["models", "verify", f"{name}:{versions[0]}"], home)
        if verified.returncode != 0:
            result.fail(f"{name}: models verify: {verified.stderr.decode()}")
    say(f"{len(trainings)} trainings compared with the uninterrupted run")


# ---------------------------------------------------------------------------- predict load
PUBLISHER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from rnn_tui.registry import Registry, read_card

    root, stop, interval = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    sources = sys.argv[4:]
    registry = Registry(root)
    count = 0
    while not stop.exists():
        source = Path(sources[count % len(sources)])
        card = {**read_card(source / "card.json"), "variant": source.parent.name}
        registry.publish("shared", source, card)
        count += 1
        time.sleep(interval)
    print(count)
""")


def predict_while_publishing(home: Path, sources: list[Path], *, processes: int = 8,
                             calls: int = 5, interval: float = 0.2,
                             texts: tuple[str, ...] = ("wonderful 최고 profit",
                                                       "boring 지루하다 wheat")
                             ) -> CampaignResult:
    """``processes`` loops of ``rnn-tui predict -m shared --format jsonl TEXTS`` (``calls``
    each) while another process publishes a new version of ``shared`` every ``interval``
    seconds, cycling through ``sources`` (version folders of different models). Every
    answer must come from a complete version: its probabilities are exactly those of the
    source model that version was copied from."""
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import Registry, read_card

    result = CampaignResult()
    root = home / "models"
    registry = Registry(root)
    expected = {}
    for source in sources:
        predictor = Predictor.from_folder(source)
        values = predictor.predict(list(texts))
        expected[source.parent.name] = [dict(zip(predictor.labels, map(float, row)))
                                        for row in values]
    first = sources[0]
    registry.publish("shared", first, {**read_card(first / "card.json"),
                                       "variant": first.parent.name})
    stop = home / "stop-publishing"
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(root), str(stop), str(interval),
         *map(str, sources)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli_env(home))
    outcomes: list[tuple[int, bytes, bytes]] = []
    lock = threading.Lock()

    def loop(_: int) -> None:
        for _ in range(calls):
            done = cli(["predict", "-m", "shared", "--format", "jsonl", *texts], home,
                       timeout=120)
            with lock:
                outcomes.append((done.returncode, done.stdout, done.stderr))

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(processes) as pool:
            list(pool.map(loop, range(processes)))
    finally:
        stop.touch()
        out, err = publisher.communicate(timeout=120)
    seconds = time.monotonic() - started
    if publisher.returncode != 0:
        result.fail(f"the publisher failed: {err.decode()[-800:]}")
    published = int(out.decode().strip() or 0)
    cards: dict[str, dict[str, Any]] = {}
    versions_seen = set()
    for code, stdout, stderr in outcomes:
        if code != 0 or stderr.strip():
            result.fail(f"predict exit {code}: {stderr.decode('utf-8', 'replace')[-300:]}")
            continue
        records = [json.loads(line) for line in stdout.decode().splitlines()]
        if len(records) != len(texts):
            result.fail(f"predict gave {len(records)} answers for {len(texts)} texts")
            continue
        for text_index, record in enumerate(records):
            ref = record["model"]
            versions_seen.add(ref)
            if ref not in cards:
                version = registry.resolve(ref)
                version.verify()
                cards[ref] = version.card
            variant = cards[ref]["variant"]
            want = expected[variant][text_index]
            got = record["probabilities"]
            if set(got) != set(want) or any(abs(got[k] - want[k]) > 2e-6 for k in want):
                result.fail(f"{ref} ({variant}) answered {got}, its model gives {want}")
                continue
            result.operations += 1
    problems = audit_registry(root)
    if problems:
        result.fail(f"after the load: {problems}")
    result.details.update(processes=processes, calls=len(outcomes), predictions=result.operations,
                          publishes=published + 1, versions_answering=len(versions_seen),
                          seconds=round(seconds, 1))
    return result


# ---------------------------------------------------------------------------- two trainers
def two_trainers(base: Path, *, epochs: int = 2, train_size: int = 128) -> CampaignResult:
    """Two ``rnn-tui train --name shared`` at once, each with its own home (its run folder)
    but one registry folder (``<home>/models`` is a link to it), with different seeds: both
    must finish, as two distinct complete versions, and @best must end on the better one."""
    from rnn_tui.registry import Registry
    from rnn_tui.train.card_builder import better_than

    result = CampaignResult()
    shared = base / "shared-models"
    shared.mkdir(parents=True)
    homes = []
    for index in range(2):
        home = base / f"home-{index}"
        home.mkdir()
        (home / "models").symlink_to(shared, target_is_directory=True)
        homes.append(home)
    processes = [subprocess.Popen(
        [sys.executable, "-m", "rnn_tui",
         *train_args("shared", epochs=epochs, train_size=train_size, seed=index + 1)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(home))
        for index, home in enumerate(homes)]
    refs = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        result.injected += 1
        if process.returncode != 0:
            result.fail(f"a trainer failed: {err.decode()[-800:]}")
            continue
        finished = [e for e in _read_events(out) if e.get("event") == "RunFinished"]
        refs.append(finished[-1]["model_ref"])
    registry = Registry(shared)
    versions = registry.versions("shared")
    if sorted(refs) != ["shared:1", "shared:2"] or versions != [1, 2]:
        result.fail(f"two trainers made {refs}; the registry holds {versions}")
    problems = audit_registry(shared, allow_leftovers=False)
    if problems:
        result.fail(str(problems))
    if versions == [1, 2]:
        one, two = (registry.resolve(f"shared:{v}").card for v in (1, 2))
        best = registry.aliases("shared").get("best")
        want = 2 if better_than(two, one) else 1
        if best != want:
            result.fail(f"@best points at {best}; the better test score is version {want}")
        result.survived = 2 if not result.failures else 0
        result.operations = len(versions)
    result.details["refs"] = refs
    return result


# ---------------------------------------------------------------------------- disk full
def disk_full_publish_campaign(root: Path, source: Path, archive: Path | None = None
                               ) -> CampaignResult:
    """Publish ``source`` (a version folder), and import ``archive``, with the disk full
    after every interesting byte count (before, inside and after each file): each attempt
    must either publish a complete version or fail with ENOSPC leaving the registry exactly
    as it was, with no staging folder or temporary file behind."""
    import errno as errnos

    from rnn_tui.registry import Registry

    result = CampaignResult()
    registry = Registry(root)
    registry.publish("model", source, aliases=["best"])
    sizes = sorted(path.stat().st_size for path in source.iterdir())
    budgets = {0, 1}
    total = 0
    for size in sizes:
        budgets.update({total + 1, total + size // 2, total + size - 1, total + size})
        total += size
    budgets.update({total + 100, total + 5000, 2 * total + 20_000})
    attempts = [("publish", budget) for budget in sorted(budgets)]
    if archive is not None:
        attempts += [("import", budget) for budget in sorted(budgets)]
    for kind, budget in attempts:
        before = registry_snapshot(root)
        try:
            with disk_full_after(root, budget):
                if kind == "publish":
                    registry.publish("model", source, aliases=["best"], tags=["t"])
                else:
                    registry.import_archive(archive, "imported", aliases=["best"])
        except OSError as error:
            result.injected += 1
            if error.errno != errnos.ENOSPC:
                result.fail(f"{kind} at {budget} bytes: {error!r}")
                continue
            if registry_snapshot(root) != before:
                result.fail(f"{kind} at {budget} bytes: the registry changed")
                continue
        else:
            result.operations += 1
        problems = audit_registry(root, allow_leftovers=False)
        if problems:
            result.fail(f"{kind} at {budget} bytes: {problems}")
    result.survived = result.injected - len(result.failures)
    return result


# ---------------------------------------------------------------------------- damaged files
def damage(path: Path, how: str) -> None:
    """Truncate, flip one byte in the middle, empty, or (card) claim format_version 2."""
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x24]) + data[middle + 1:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "format":
        card = json.loads(data)
        card["format_version"] = 2
        path.write_text(json.dumps(card))


DAMAGE_CASES = [(name, how) for name in ("model.keras", "runtime.npz", "vocabulary.json",
                                         "card.json")
                for how in ("truncated", "flipped", "empty")] + [("card.json", "format")]


def damaged_files_campaign(home: Path, tiny_models: Path) -> CampaignResult:
    """Each of ``DAMAGE_CASES`` in turn on a copy of a real model, through the real CLI:
    ``models verify``/``predict`` name the damaged file in one line (predict never reads
    model.keras), ``models list`` still lists the other model, ``predict`` still works
    with it."""
    from rnn_tui.registry import Registry

    result = CampaignResult()
    registry = Registry(home / "models")
    registry.publish("good", tiny_models / "reuters-topics" / "1")
    for file_name, how in DAMAGE_CASES:
        version = registry.publish("broken", tiny_models / "imdb-sentiment" / "1")
        path = version.path / file_name
        damage(path, how)
        result.injected += 1
        what = f"{file_name} {how}"
        failures = len(result.failures)
        listed = cli(["models", "list", "--json"], home)
        names = [m["name"] for m in json.loads(listed.stdout)["models"]]
        if listed.returncode != 0 or "good" not in names:
            result.fail(f"{what}: models list lost the good model: {listed.stderr!r}")
        verified = cli(["models", "verify", version.ref], home)
        if verified.returncode != 2 or str(path) not in one_line_error(verified):
            result.fail(f"{what}: models verify: {verified.stderr!r}")
        predicted = cli(["predict", "-m", version.ref, "wonderful film"], home)
        if file_name == "model.keras":
            if predicted.returncode != 0:
                result.fail(f"{what}: predict: {predicted.stderr!r}")
        elif predicted.returncode != 2 or str(path) not in one_line_error(predicted):
            result.fail(f"{what}: predict: {predicted.stderr!r}")
        other = cli(["predict", "-m", "good", "oil prices rose"], home)
        if other.returncode != 0 or other.stderr:
            result.fail(f"{what}: the good model stopped working: {other.stderr!r}")
        registry.remove(version.ref)
        result.survived += len(result.failures) == failures
        result.operations += 4
    return result
