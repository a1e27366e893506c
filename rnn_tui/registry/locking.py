"""Inter-process locks for registries and run folders, chosen with ``RNN_TUI_LOCK``.

A registry (or ``$RNN_TUI_HOME/runs``) may live on a shared filesystem such as NFS, where
the right kind of lock depends on how it is mounted. Three kinds:

``flock`` (the default)
    ``filelock.FileLock``: ``flock(2)`` on a ``.lock`` file. On a local filesystem the
    kernel drops it when its process dies. On an NFS mount, Linux (since 2.6.12) turns
    ``flock()`` into a POSIX byte-range lock over the whole file, which the server
    arbitrates (NFSv4 lock operations, or NLM/lockd for NFSv3), so it excludes processes on
    other machines too, *unless* the mount has ``local_lock=flock``/``local_lock=all``
    (then flock is local to one client) or ``nolock`` (no server locks at all).
``fcntl``
    a POSIX record lock (``fcntl.lockf``) on the ``.lock`` file: the lock NFS itself
    implements, so it works across clients on NFSv3 (with lockd) and NFSv4 even where
    ``local_lock=flock`` makes flock local. POSIX locks belong to a process, not to an
    open file, so this class also holds a per-path thread lock (two threads of one process
    exclude each other, as with flock). A dead client's lock is released when its NFSv4
    lease expires (90 s by default) or when lockd's recovery runs (NFSv3).
``lockfile``
    ``filelock.SoftFileLock``: the lock *is* the file, created with ``O_CREAT|O_EXCL`` and
    removed on release. Exclusive create is atomic on NFSv3 and later (the ``open(2)`` man
    page warns only about NFSv2), so this needs no lock service at all and works on
    ``nolock`` mounts. The file records the holder's pid and host: a holder that died on
    the *same* host is detected and its file reclaimed; one that died on another host
    leaves a stale file that must be removed by hand (the timeout message names it).
    The marker is ``<path>.marker``, not ``<path>`` itself: flock and fcntl leave their
    (empty) lock file in place on release, and SoftFileLock takes an existing file without
    a pid for a holder it cannot probe, so one default write before switching to
    ``lockfile`` would otherwise wedge every later write.

Every process sharing a registry should use the same kind: the kinds do not see each
other's locks (mixing them no longer wedges, but neither does it exclude).

The registry's other guarantees do not depend on the lock kind: versions appear by one
``rename(2)``, which NFS performs as a single atomic server operation, and readers never
lock. What NFS adds is caching: close-to-open consistency means a reader that opens a file
after the writer closed it sees the whole file, but directory listings and attributes are
cached for up to ``acdirmax``/``acregmax`` (60 s by default), so a new version or alias may
appear on another machine a little late. It never appears half-written.

>>> lock = interprocess_lock(tmp_path / "demo.lock", timeout=5)        # doctest: +SKIP
>>> lock.acquire(); lock.release()                                     # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from rnn_tui.errors import UserError

LOCK_ENV = "RNN_TUI_LOCK"
LOCK_KINDS = ("flock", "fcntl", "lockfile")
DEFAULT_LOCK_KIND = "flock"
POLL_INTERVAL_S = 0.05


def lock_kind() -> str:
    """The lock kind ``RNN_TUI_LOCK`` asks for (``flock`` when unset).

    >>> lock_kind() in LOCK_KINDS
    True
    """
    kind = os.environ.get(LOCK_ENV, "").strip().lower() or DEFAULT_LOCK_KIND
    if kind not in LOCK_KINDS:
        raise UserError(f"{LOCK_ENV}={os.environ.get(LOCK_ENV)!r}: use one of "
                        f"{', '.join(LOCK_KINDS)} (see docs/ARCHITECTURE.md, NFS)")
    return kind


def interprocess_lock(path: str | Path, timeout: float = -1, kind: str | None = None) -> Any:
    """A lock on ``path`` of the configured kind.

    The object has ``acquire(timeout=None)`` and ``release()`` and a ``lock_file``
    attribute; ``acquire`` raises ``filelock.Timeout`` when ``timeout`` seconds pass
    (a negative timeout waits for ever, 0 tries once).
    """
    kind = kind or lock_kind()
    if kind == "flock":
        from filelock import FileLock

        return FileLock(str(path), timeout=timeout)
    if kind == "lockfile":
        from filelock import SoftFileLock

        return SoftFileLock(marker_path(path), timeout=timeout)
    if kind == "fcntl":
        return PosixRecordLock(path, timeout=timeout)
    raise UserError(f"unknown lock kind {kind!r}: use one of {', '.join(LOCK_KINDS)}")


def marker_path(path: str | Path) -> str:
    """Where the ``lockfile`` kind puts its marker for a lock on ``path``.

    >>> marker_path("/m/.locks/demo.lock")
    '/m/.locks/demo.lock.marker'
    """
    return f"{path}.marker"


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock_for(path: str) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(path, threading.Lock())


class PosixRecordLock:
    """An exclusive POSIX record lock (``fcntl.lockf``) on a whole file, with a timeout.

    Not reentrant. The lock file stays in place after release, so every waiter locks the
    same inode.
    """

    def __init__(self, path: str | Path, timeout: float = -1):
        self.lock_file = str(Path(path).absolute())
        self.timeout = timeout
        self._fd: int | None = None
        self._thread_lock = _thread_lock_for(os.path.realpath(self.lock_file))

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float | None = None) -> PosixRecordLock:
        import fcntl

        from filelock import Timeout

        timeout = self.timeout if timeout is None else timeout
        deadline = None if timeout < 0 else time.monotonic() + timeout
        # Other threads of this process first: the kernel would let them share our lock.
        if not self._thread_lock.acquire(timeout=-1 if deadline is None else timeout):
            raise Timeout(self.lock_file)
        try:
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            self._thread_lock.release()
            raise
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return self
            except OSError as error:
                import errno

                if error.errno not in (errno.EACCES, errno.EAGAIN):
                    os.close(fd)
                    self._thread_lock.release()
                    raise
            if deadline is not None and time.monotonic() >= deadline:
                os.close(fd)
                self._thread_lock.release()
                raise Timeout(self.lock_file)
            time.sleep(POLL_INTERVAL_S)

    def release(self) -> None:
        import fcntl

        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)  # closing drops the lock too; unlocking first is for clarity
            self._thread_lock.release()

    def __enter__(self) -> PosixRecordLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()
