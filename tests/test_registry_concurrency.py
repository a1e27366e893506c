"""Concurrent writers and readers, and writers killed mid-publish.

Workers run in spawned processes (not forked: TensorFlow may already be loaded in the test
process, and forking it is unsafe), so they are module-level functions.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from rnn_tui.errors import NotFoundError, RnnTuiError
from rnn_tui.registry import Registry

SPAWN = multiprocessing.get_context("spawn")


def slow_build(worker: int, round_: int, chunks: int = 8, pause: float = 0.002):
    """Writes a model file in chunks (so readers have a chance to look mid-write)."""
    def build(folder: Path):
        payload = os.urandom(16 * 1024)
        with open(folder / "model.keras", "wb") as handle:
            for _ in range(chunks):
                handle.write(payload)
                handle.flush()
                time.sleep(pause)
        (folder / "vocabulary.json").write_text(f'{{"worker": {worker}}}')
        return {"task": "binary", "labels": ["no", "yes"], "worker": worker, "round": round_}
    return build


def publish_many(root: str, worker: int, count: int) -> list[int]:
    registry = Registry(root)
    return [registry.publish("shared", slow_build(worker, i), aliases=["newest"]).version
            for i in range(count)]


def publish_then_die_while_writing(root: str) -> None:
    def build(folder: Path):
        with open(folder / "model.keras", "wb") as handle:
            handle.write(b"half a model")
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return {"task": "binary"}

    Registry(root).publish("victim", build)


def publish_then_die_while_renaming(root: str) -> None:
    from rnn_tui.registry import folder as store

    def die(source, target):
        os.kill(os.getpid(), signal.SIGKILL)

    store._move_into_place = die
    Registry(root).publish("victim", slow_build(0, 0))


def publish_with_timeout(root: str, name: str, timeout: float, results) -> None:
    try:
        version = Registry(root, lock_timeout=timeout).publish(name, slow_build(0, 0))
        results.put(("ok", version.ref))
    except RnnTuiError as error:
        results.put(("error", str(error)))


def test_concurrent_publishers_get_distinct_complete_versions(tmp_path):
    root = str(tmp_path / "models")
    with SPAWN.Pool(4) as pool:
        results = pool.starmap(publish_many, [(root, worker, 5) for worker in range(4)])
    numbers = sorted(n for numbers in results for n in numbers)
    assert numbers == list(range(1, 21))
    registry = Registry(root)
    assert registry.versions("shared") == list(range(1, 21))
    for worker, numbers_of_worker in enumerate(results):
        assert numbers_of_worker == sorted(numbers_of_worker)
        for number in numbers_of_worker:
            version = registry.resolve(f"shared:{number}")
            version.verify()  # every file complete and matching its card
            assert version.card["worker"] == worker
    assert registry.aliases("shared")["newest"] in range(1, 21)
    assert os.listdir(tmp_path / "models" / ".staging") == []


def test_a_reader_never_sees_a_partial_version(tmp_path):
    root = str(tmp_path / "models")
    registry = Registry(root)
    writer = SPAWN.Process(target=publish_many, args=(root, 0, 12))
    writer.start()
    checked = set()
    try:
        while writer.is_alive() or len(checked) < 12:
            for number in registry.versions("shared"):
                version = registry.resolve(f"shared:{number}")
                version.verify()  # raises if any file were missing or short
                checked.add(number)
            # A version appears first, its aliases just after (both under the lock).
            if "newest" in registry.aliases("shared"):
                registry.resolve("shared@newest").verify()
            if not writer.is_alive() and len(checked) < 12:
                break
    finally:
        writer.join(60)
    assert writer.exitcode == 0
    assert checked == set(range(1, 13))


def test_a_writer_killed_while_writing_leaves_nothing_visible(tmp_path):
    root = tmp_path / "models"
    process = SPAWN.Process(target=publish_then_die_while_writing, args=(str(root),))
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    registry = Registry(root)
    assert registry.versions("victim") == []
    assert registry.list_models() == []
    with pytest.raises(NotFoundError):
        registry.resolve("victim")
    assert len(os.listdir(root / ".staging")) == 1  # the leftover, invisible to readers
    version = registry.publish("victim", slow_build(0, 0))
    assert version.version == 1
    assert os.listdir(root / ".staging") == []  # swept: its writer is dead


def test_a_writer_killed_holding_the_lock_releases_it(tmp_path):
    root = tmp_path / "models"
    process = SPAWN.Process(target=publish_then_die_while_renaming, args=(str(root),))
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    registry = Registry(root, lock_timeout=10)
    assert registry.versions("victim") == []
    started = time.monotonic()
    version = registry.publish("victim", slow_build(0, 0))
    assert time.monotonic() - started < 5  # the kernel dropped the dead writer's lock
    assert version.version == 2  # number 1 was counted before the rename: never reused
    version.verify()


def test_writers_of_one_name_wait_and_other_names_do_not(tmp_path):
    root = tmp_path / "models"
    registry = Registry(root)
    results = SPAWN.Queue()
    with registry._lock("busy"):
        other = SPAWN.Process(target=publish_with_timeout, args=(str(root), "free", 20, results))
        other.start()
        assert results.get(timeout=60) == ("ok", "free:1")
        other.join(10)
        same = SPAWN.Process(target=publish_with_timeout, args=(str(root), "busy", 0.5, results))
        same.start()
        status, message = results.get(timeout=60)
        same.join(10)
    assert status == "error"
    assert "another process has held the lock on model 'busy'" in message
    assert registry.versions("busy") == []
    assert registry.publish("busy", slow_build(0, 0)).version == 1
