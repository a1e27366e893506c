"""The lock kinds of ``RNN_TUI_LOCK`` (flock, fcntl, lockfile): each one still serialises
concurrent publishers of one name, excludes another process while held, and is given back
when its holder dies. (NFS itself cannot be mounted here; docs/ARCHITECTURE.md says which
kind is safe on which mount.)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
from filelock import Timeout

from rnn_tui.errors import UserError
from rnn_tui.registry import Registry
from rnn_tui.registry.locking import LOCK_KINDS, interprocess_lock, lock_kind
from test_registry_concurrency import publish_many, slow_build

SPAWN = multiprocessing.get_context("spawn")


def hold_lock(path: str, kind: str, ready, release) -> None:
    lock = interprocess_lock(path, kind=kind)
    lock.acquire()
    ready.set()
    release.wait(60)
    lock.release()


def hold_lock_and_die(path: str, kind: str, ready) -> None:
    interprocess_lock(path, kind=kind).acquire()
    ready.set()
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("kind", LOCK_KINDS)
def test_each_kind_serialises_concurrent_publishers(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("RNN_TUI_LOCK", kind)  # inherited by the spawned publishers
    root = str(tmp_path / "models")
    with SPAWN.Pool(3) as pool:
        results = pool.starmap(publish_many, [(root, worker, 4) for worker in range(3)])
    assert sorted(n for numbers in results for n in numbers) == list(range(1, 13))
    registry = Registry(root)
    assert registry.versions("shared") == list(range(1, 13))
    for number in range(1, 13):
        registry.resolve(f"shared:{number}").verify()


@pytest.mark.parametrize("kind", LOCK_KINDS)
def test_a_held_lock_excludes_another_process_until_released(tmp_path, kind):
    path = str(tmp_path / "name.lock")
    ready, release = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock, args=(path, kind, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(Timeout):
            interprocess_lock(path, kind=kind).acquire(timeout=0.3)
        release.set()
        holder.join(30)
        lock = interprocess_lock(path, kind=kind)
        lock.acquire(timeout=10)
        lock.release()
    finally:
        release.set()
        holder.join(30)


@pytest.mark.parametrize("kind", LOCK_KINDS)
def test_a_dead_holder_does_not_wedge_the_lock(tmp_path, kind):
    path = str(tmp_path / "name.lock")
    ready = SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock_and_die, args=(path, kind, ready))
    holder.start()
    assert ready.wait(60)
    holder.join(60)
    assert holder.exitcode == -signal.SIGKILL
    lock = interprocess_lock(path, kind=kind)
    lock.acquire(timeout=10)  # flock/fcntl: the kernel dropped it; lockfile: pid reclaimed
    lock.release()


def test_fcntl_locks_exclude_threads_of_one_process(tmp_path):
    path = tmp_path / "name.lock"
    first = interprocess_lock(path, kind="fcntl").acquire()
    with pytest.raises(Timeout):  # POSIX locks alone would let this thread in
        interprocess_lock(path, kind="fcntl").acquire(timeout=0.2)
    got = []
    waiter = threading.Thread(target=lambda: got.append(
        interprocess_lock(path, kind="fcntl").acquire(timeout=10)))
    waiter.start()
    time.sleep(0.2)
    assert not got
    first.release()
    waiter.join(10)
    assert got and got[0].is_locked
    got[0].release()


def test_an_unknown_kind_is_a_user_error(monkeypatch, tmp_path):
    monkeypatch.setenv("RNN_TUI_LOCK", "nfs-magic")
    with pytest.raises(UserError, match="RNN_TUI_LOCK='nfs-magic': use one of flock, fcntl"):
        lock_kind()
    with pytest.raises(UserError):
        Registry(tmp_path / "models").publish("x", lambda folder: {"task": "binary"})


@pytest.mark.parametrize("first", ["flock", "fcntl"])
def test_lockfile_after_another_kind_does_not_wait_for_its_empty_file(tmp_path, monkeypatch,
                                                                     first):
    """flock and fcntl leave an empty lock file behind; the lockfile kind must not take it
    for a holder (it did: every write then waited for the timeout and blamed "another
    process"). Through the registry, as a user switching to RNN_TUI_LOCK=lockfile would."""
    root = tmp_path / "models"
    monkeypatch.setenv("RNN_TUI_LOCK", first)
    registry = Registry(root, lock_timeout=2)
    registry.publish("shared", slow_build(0, 0, chunks=1))
    assert (root / ".locks" / "shared.lock").exists()
    monkeypatch.setenv("RNN_TUI_LOCK", "lockfile")
    started = time.monotonic()
    registry.set_alias("shared", "best", 1)
    registry.publish("shared", slow_build(0, 1, chunks=1))
    assert time.monotonic() - started < 2
    assert registry.versions("shared") == [1, 2]
    assert not (root / ".locks" / "shared.lock.marker").exists()  # given back
