"""The data home: find corpora in it, download them into it, import the user's copies.

The data home is ``rnn_tui.paths.data_home()`` (``$RNN_TUI_DATA``, else the user data
directory). It holds the publishers' files in the layout of the offline mirror, so a corpus is
*present* when all files of one of its catalog forms exist (see ``rnn_tui.data.catalog``).

Every write is atomic: a download or an import goes to a temporary name beside its target and
is renamed into place only when complete and checked, so an interrupted ``fetch`` (Ctrl-C, a
dropped connection, a bad checksum) leaves no half file behind.

>>> presence = find("nsmc")          # None when absent
>>> fetch("nsmc")                    # downloads ratings_train.txt and ratings_test.txt
>>> import_("imdb", Path("~/Downloads/aclImdb_v1.tar.gz").expanduser())
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import http.client
import importlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from rnn_tui import paths
from rnn_tui.data import catalog
from rnn_tui.data.catalog import CorpusInfo, Download, Form
from rnn_tui.errors import DataError, NotFoundError, RnnTuiError, UserError
from rnn_tui.fileio import atomic_path, fsync_path, fsync_tree

CHUNK_BYTES = 1 << 16
TIMEOUT_S = 30


def resolve_home(data_home: Path | str | None) -> Path:
    return Path(data_home).expanduser() if data_home is not None else paths.data_home()


def corpus_module(name: str) -> ModuleType:
    """The loader module of a catalog corpus (imported on demand)."""
    info = catalog.get(name)
    module = "synthetic" if info.synthetic else info.name
    return importlib.import_module(f"rnn_tui.data.{module}")


# ---------------------------------------------------------------------------- finding
@dataclass
class Presence:
    """A corpus found in the data home: which form, and the files that make it."""

    info: CorpusInfo
    form: Form
    paths: list[Path] = field(default_factory=list)

    @property
    def size_bytes(self) -> int:
        return sum(_disk_size(path) for path in self.paths)


@dataclass
class CorpusStatus:
    """One row of ``data list``: a corpus, present or not, and incomplete forms."""

    info: CorpusInfo
    presence: Presence | None
    # forms with some but not all of their files: (form, the missing relative paths)
    partial: list[tuple[Form, list[str]]] = field(default_factory=list)


def _disk_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def _matches(home: Path, required: str) -> list[Path]:
    if glob.has_magic(required):
        return sorted(Path(p) for p in glob.glob(str(home / required)))
    path = home / required
    return [path] if path.exists() else []


def _form_files(home: Path, form: Form) -> tuple[list[Path], list[str]]:
    found: list[Path] = []
    missing: list[str] = []
    for required in form.requires:
        matches = _matches(home, required)
        if matches:
            found.extend(matches)
        else:
            missing.append(required)
    return found, missing


def find(name: str, data_home: Path | str | None = None, kind: str = "auto") -> Presence | None:
    """The first complete form of corpus ``name`` in the data home (catalog order), or None.

    ``kind`` limits the search to one loader form ("raw", "npz", "sgml" ...).

    >>> find("imdb", "~/corpora").form.name
    'aclImdb_labeled.tar.gz'
    """
    info = catalog.get(name)
    if kind not in ("auto", *info.kinds):
        known = ", ".join(("auto", *info.kinds))
        raise UserError(f"{name} has no form {kind!r} (known: {known})")
    home = resolve_home(data_home)
    for form in info.forms:
        if kind != "auto" and form.kind != kind:
            continue
        found, missing = _form_files(home, form)
        if not missing:
            return Presence(info, form, found)
    return None


def require(name: str, data_home: Path | str | None = None, kind: str = "auto") -> Presence:
    """Like :func:`find`, but absence is a NotFoundError that says how to get the corpus."""
    presence = find(name, data_home, kind)
    if presence is not None:
        return presence
    info = catalog.get(name)
    home = resolve_home(data_home)
    forms = [f for f in info.forms if kind in ("auto", f.kind)]
    expected = "; or ".join(" + ".join(form.requires) for form in forms)
    raise NotFoundError(
        f"{name} is not in the data home {home} (expected {expected}). "
        f"Run `rnn-tui data fetch {name}`, or `rnn-tui data import {name} PATH` for a copy "
        "you already have; RNN_TUI_DATA chooses the data home."
    )


def survey(data_home: Path | str | None = None) -> list[CorpusStatus]:
    """Every catalog corpus with its presence in the data home (for ``data list``)."""
    home = resolve_home(data_home)
    statuses = []
    for info in catalog.CORPORA.values():
        presence = None
        partial = []
        for form in info.forms:
            found, missing = _form_files(home, form)
            if not missing:
                presence = presence or Presence(info, form, found)
            elif found:
                partial.append((form, missing))
        statuses.append(CorpusStatus(info, presence, [] if presence else partial))
    return statuses


# ---------------------------------------------------------------------------- fetching
def _offline_message(name: str, download: Download, reason: Any) -> str:
    return (
        f"cannot download {download.url} ({reason}). This machine seems to be offline or "
        f"the server is unreachable. Download the file on a connected machine and run "
        f"`rnn-tui data import {name} PATH` (it goes to <data home>/{download.target})."
    )


def _new_hasher(download: Download):
    checksum = download.checksum
    return hashlib.new(checksum[0]) if checksum else hashlib.sha256()


def _progress(console: Any, description: str, total: int | None):
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task(description, total=total)
    return progress, task


# ---------------------------------------------------------------------------- checksums
# Publishers that give no checksum: the sha256 and size of the first download are recorded
# here (trust on first use), and a later download must match them to replace the copy.
RECORDED_CHECKSUMS = ".rnn-tui-checksums.json"


def recorded_checksums(home: Path) -> dict[str, dict[str, Any]]:
    """target -> {"sha256", "size", "url", "recorded"} for files whose publisher gives no
    checksum (an unreadable record counts as empty: it only ever adds a check)."""
    import json

    try:
        data = json.loads((home / RECORDED_CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _record_checksum(home: Path, download: Download, sha256: str, size: int) -> None:
    import json
    from datetime import datetime, timezone

    from rnn_tui.fileio import atomic_write_text

    records = recorded_checksums(home)
    records[download.target] = {
        "sha256": sha256, "size": size, "url": download.url,
        "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    atomic_write_text(home / RECORDED_CHECKSUMS,
                      json.dumps(records, indent=2, sort_keys=True) + "\n")


def _verify(home: Path, target: Path, download: Download, digest: str, size: int) -> None:
    """The publisher's checksum, else the one recorded at the first download (when that
    copy is still there); a mismatch is a DataError and the existing copy stays."""
    checksum = download.checksum
    if checksum:
        if digest != checksum[1].lower():
            raise DataError(
                f"checksum mismatch for {download.url}: {checksum[0]} {digest}, the "
                f"publisher's is {checksum[1]}; the download was discarded"
                + ("; the copy already there was kept" if target.exists() else ""))
        return
    record = recorded_checksums(home).get(download.target)
    if not isinstance(record, dict) or not target.exists():
        return  # a first download (or the old copy was deleted): it becomes the reference
    if record.get("sha256") != digest or record.get("size") != size:
        raise DataError(
            f"the download from {download.url} ({size:,} bytes, sha256 {digest[:16]}…) differs "
            f"from the first download ({record.get('size')} bytes, sha256 "
            f"{str(record.get('sha256'))[:16]}…, recorded {record.get('recorded')}); the "
            "publisher gives no checksum, so the first download is the reference: the copy "
            f"already there was kept. To take the new file, delete {target} and fetch again")


# ---------------------------------------------------------------------------- downloading
# A dropped connection is resumed with an HTTP Range request (or restarted from the first
# byte where the server ignores Range), up to this many attempts in all.
MAX_ATTEMPTS = 4
RETRY_PAUSE_S = 0.5  # times the attempt number: 0.5 s, 1 s, 1.5 s


def _open(opener: Callable[..., Any], name: str, download: Download, start: int) -> Any:
    headers = {"User-Agent": "rnn-tui"}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(download.url, headers=headers)
    try:
        return opener(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        raise RnnTuiError(
            f"cannot download {download.url}: the server answered {error.code} {error.reason}"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RnnTuiError(_offline_message(name, download, reason)) from None


def _header(response: Any, key: str) -> str | None:
    headers = getattr(response, "headers", None)
    return headers.get(key) if headers else None


def _resumes_at(response: Any, start: int) -> bool:
    """Whether a response to ``Range: bytes=start-`` really continues at ``start``."""
    status = getattr(response, "status", None)
    content_range = _header(response, "Content-Range") or ""
    return status == 206 and content_range.startswith(f"bytes {start}-")


def _receive(temp: Path, name: str, download: Download, console: Any,
             opener: Callable[..., Any]) -> tuple[str, int]:
    """Download into ``temp``, resuming or restarting after a dropped connection;
    returns (hex digest, size)."""
    import time

    hasher = _new_hasher(download)
    received = 0
    total: int | None = None
    response = _open(opener, name, download, 0)  # offline or refused: one line, at once
    progress, task = _progress(console, download.target, None)
    try:
        with progress, open(temp, "wb") as out:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                if attempt > 1:
                    try:
                        response = _open(opener, name, download, received)
                    except RnnTuiError:
                        broke = "the server could not be reached again"
                        response = None
                if response is not None:
                    with response:
                        if received and not _resumes_at(response, received):
                            out.seek(0)  # the whole file again: start over
                            out.truncate()
                            hasher, received = _new_hasher(download), 0
                            progress.reset(task)
                        length = _header(response, "Content-Length")
                        if length and length.isdigit():
                            total = received + int(length)
                            progress.update(task, total=total)
                        try:
                            while chunk := response.read(CHUNK_BYTES):
                                out.write(chunk)
                                hasher.update(chunk)
                                received += len(chunk)
                                progress.update(task, advance=len(chunk))
                            if total is None or received >= total:
                                return hasher.hexdigest(), received
                            broke = "the connection closed early"
                        except (OSError, http.client.HTTPException) as error:
                            broke = str(error) or type(error).__name__
                if attempt < MAX_ATTEMPTS:
                    progress.console.print(
                        f"{download.target}: {broke} after {received:,} bytes; resuming "
                        f"(attempt {attempt + 1} of {MAX_ATTEMPTS})", highlight=False)
                    time.sleep(RETRY_PAUSE_S * attempt)
    finally:
        progress.stop()
    of_total = f" of {total:,}" if total is not None else ""
    raise RnnTuiError(
        f"download of {download.url} broke off {MAX_ATTEMPTS} times (last: {broke}, after "
        f"{received:,}{of_total} bytes); nothing was kept, run the command again")


def download_file(
    name: str,
    download: Download,
    data_home: Path | str | None = None,
    *,
    console: Any = None,
    check: Callable[[Path, str], None] | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> Path:
    """Download one file into the data home atomically, verifying its checksum.

    The checksum is the publisher's (``download.checksum``) or, where the publisher gives
    none, the sha256 and size recorded at the first download (``RECORDED_CHECKSUMS``); a
    mismatch leaves the copy already there untouched. A dropped connection is resumed (HTTP
    Range) or restarted, up to ``MAX_ATTEMPTS`` attempts. ``check(temp_path, target)`` may
    verify the content's format before it is renamed into place. Returns the final path.
    """
    home = resolve_home(data_home)
    target = home / download.target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        problem = f"cannot write to the data home: {error.strerror or error}"
        raise DataError(problem, target.parent) from None
    with atomic_path(target) as temp:
        digest, size = _receive(temp, name, download, console, opener)
        _verify(home, target, download, digest, size)
        if check is not None:
            try:
                check(temp, download.target)
            except DataError as error:
                where = f" (line {error.line})" if error.line is not None else ""
                raise DataError(
                    f"the download from {download.url} is not a valid {download.target}{where}: "
                    f"{error.problem}; it was discarded"
                ) from None
    if download.checksum is None:
        with contextlib.suppress(OSError):  # the file is in place; the record only adds
            _record_checksum(home, download, digest, size)
    return target


def fetch(
    name: str,
    *,
    kind: str | None = None,
    force: bool = False,
    data_home: Path | str | None = None,
    console: Any = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> list[Path]:
    """Download corpus ``name`` (form ``kind``, else its default) into the data home.

    Files already there are kept unless ``force``. Synthetic corpora need no download.
    Returns the paths now in place.

    >>> fetch("imdb", kind="npz")   # Keras' imdb.npz + imdb_word_index.json
    """
    info = catalog.get(name)
    if info.synthetic:
        raise UserError(f"{name} is generated on demand; there is nothing to download")
    kind = kind or info.default_download_kind
    if kind not in info.downloads:
        known = ", ".join(info.downloads)
        raise UserError(f"{name} cannot be downloaded as {kind!r} (known: {known})")
    home = resolve_home(data_home)
    module = corpus_module(name)
    check = getattr(module, "check", None)
    placed = []
    for download in info.downloads[kind]:
        target = home / download.target
        if target.exists() and not force:
            placed.append(target)
            continue
        placed.append(
            download_file(
                name, download, home, console=console, check=check, opener=opener
            )
        )
    return placed


# ---------------------------------------------------------------------------- importing
def _copy_file(source: Path, target: Path) -> None:
    try:
        with atomic_path(target) as temp:
            shutil.copyfile(source, temp)
    except OSError as error:
        raise DataError(
            f"cannot copy to {target}: {error.strerror or error}", source
        ) from None


def _copy_tree(source: Path, target: Path) -> None:
    """Copy a folder to a temporary sibling, then rename it into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as error:
        problem = f"cannot write to the data home: {error.strerror or error}"
        raise DataError(problem, target.parent) from None
    old = None
    try:
        shutil.copytree(source, temp, dirs_exist_ok=True)
        fsync_tree(temp)  # on disk before the rename shows it
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(temp, target)
        fsync_path(target.parent)
    except OSError as error:
        raise DataError(f"cannot copy: {error.strerror or error}", source) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def import_(
    name: str,
    source: Path | str,
    *,
    force: bool = False,
    data_home: Path | str | None = None,
) -> list[Path]:
    """Copy a file or folder the user already has into the data home, after checking it.

    The corpus module decides what ``source`` is (e.g. for imdb: the aclImdb tarball, an
    extracted aclImdb folder, imdb.npz or imdb_word_index.json) and checks its format; a file
    in the wrong format is a DataError and nothing is copied. Returns the paths written.

    >>> import_("nsmc", Path("ratings_train.txt"))
    [PosixPath('.../nsmc/ratings_train.txt')]
    """
    info = catalog.get(name)
    if info.synthetic:
        raise UserError(f"{name} is generated on demand; there is nothing to import")
    source = Path(source).expanduser()
    if not source.exists():
        raise DataError("not found", source)
    home = resolve_home(data_home)
    plan: list[tuple[Path, str]] = corpus_module(name).import_plan(source)
    targets = [(item, home / relative) for item, relative in plan]
    existing = [t for item, t in targets if t.exists() and not _same(item, t)]
    if existing and not force:
        listed = ", ".join(str(t) for t in existing)
        raise UserError(f"already in the data home: {listed} (use --force to replace)")
    written = []
    for item, target in targets:
        if _same(item, target):
            written.append(target)
            continue
        if item.is_dir():
            _copy_tree(item, target)
        else:
            _copy_file(item, target)
        written.append(target)
    return written


def _same(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
