"""Small file helpers: atomic and durable writes, so nothing is ever half-written.

Durability follows what SQLite and MLflow's file store do on POSIX: write the data, fsync
the file, rename it into place, fsync the folder that holds the new name. After a power
loss a renamed file or folder is then either absent or whole; without the first fsync
the name can survive while the data it points to does not.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp makes the file private (0600); a finished file gets the usual mode, so a
    # registry on a shared machine stays readable by its other users.
    os.fchmod(fd, 0o666 & ~_UMASK)
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        fsync_path(temp)
        os.replace(temp, path)
        fsync_path(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = _read_umask()


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    with atomic_path(path) as temp:
        temp.write_text(text, encoding=encoding)


# What a filesystem answers when it cannot sync this kind of file (EINVAL: "bound to a
# special file which does not support synchronization") or folder: nothing to flush.
_NO_SYNC = (errno.EINVAL, errno.ENOTSUP)
_NO_FOLDER_SYNC = (*_NO_SYNC, errno.EBADF, errno.EACCES, errno.EPERM)


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk.

    A file that cannot be flushed raises (its data may not be on disk: EIO, ENOSPC on
    NFS) unless its filesystem does not sync at all; a folder is best effort, since some
    filesystems refuse to fsync folders.
    """
    folder = os.path.isdir(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if folder:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (_NO_FOLDER_SYNC if folder else _NO_SYNC):
            raise
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """fsync every file under ``folder``, then every folder, deepest first, then ``folder``
    itself: before a rename publishes it, everything it holds is on disk."""
    for directory, _, names in os.walk(folder, topdown=False):
        for name in names:
            path = Path(directory, name)
            if not path.is_symlink():
                fsync_path(path)
        fsync_path(Path(directory))
