"""Moving one model version between machines: a single .tar.gz or .zip archive.

An archive holds one folder, ``<name>-<version>/``, with the version's files and its card.
Importing trusts nothing in it: only regular files with plain relative names are accepted
(no absolute paths, no ``..``, no links or devices), the card must validate, every file
must be listed in the card with a matching sha256, and the total size is capped. Before
anything is unpacked, the sizes the archive declares are checked (while its members are
listed, so a crafted header is refused before its data is even read): in total at most
``MAX_ARCHIVE_BYTES``, and at most ``MAX_RATIO`` times the archive's own size (a model's
weights barely compress; a zip bomb's zeros do, a thousandfold). The readers never return
more than a member's declared size, and the bytes written are counted again. The files are
unpacked one by one into a staging folder (never ``extractall``), then published as a new
version, so a bad archive leaves nothing behind.

>>> registry.export("imdb-lstm@best", "imdb.tar.gz")                # doctest: +SKIP
>>> other_registry.import_archive("imdb.tar.gz").ref                # doctest: +SKIP
'imdb-lstm:1'
"""

from __future__ import annotations

import contextlib
import errno
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rnn_tui.errors import DataError, UserError
from rnn_tui.jsontext import parse_json
from rnn_tui.fileio import atomic_path
from rnn_tui.registry.card import (
    CARD_FILE,
    check_relative_path,
    sha256_file,
    utc_now,
    validate_card,
)
from rnn_tui.registry.names import check_name

if TYPE_CHECKING:
    from rnn_tui.registry.folder import Registry
    from rnn_tui.registry.versions import ModelVersion

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")
MAX_ARCHIVE_BYTES = 8 << 30  # a model this large is a mistake or a zip bomb
# Unpacked size per archive byte above which an archive is refused (weights compress about
# 1.1x, vocabularies and cards 3-10x); small archives may unpack to RATIO_FLOOR whatever
# their ratio, so a tiny card-only archive is never refused for compressing well.
MAX_RATIO = 100
RATIO_FLOOR = 64 << 20


class _SizeCheck:
    """Adds up declared member sizes while an archive is listed; refuses too much."""

    def __init__(self, archive: Path):
        self.archive = archive
        self.limit = min(MAX_ARCHIVE_BYTES,
                         max(RATIO_FLOOR, MAX_RATIO * archive.stat().st_size))
        self.total = 0

    def add(self, name: str, size: int) -> None:
        self.total += max(size, 0)
        if self.total <= self.limit:
            return
        if self.total > MAX_ARCHIVE_BYTES:
            why = f"more than {MAX_ARCHIVE_BYTES >> 30} GiB"
        else:
            why = (f"{self.total / self.archive.stat().st_size:,.0f} times its own size "
                   f"(at most {MAX_RATIO}: a compression bomb?)")
        raise DataError(f"refused: the archive would unpack to {why} (at member {name!r}); "
                        "nothing was extracted", self.archive)


def archive_kind(path: Path) -> str:
    """``"tar"`` or ``"zip"`` from the file name; anything else is a UserError."""
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "tar"
    if name.endswith(".zip"):
        return "zip"
    raise UserError(f"{path}: an archive name must end in {', '.join(ARCHIVE_SUFFIXES)}")


def export_version(version: ModelVersion, dest: Path) -> Path:
    """Write ``version`` to ``dest`` (a file name, or a folder to put ``name-N.tar.gz`` in).

    The files are checked against the card first, so a damaged version is not exported.
    """
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / f"{version.name}-{version.version}.tar.gz"
    kind = archive_kind(dest)
    version.verify()
    folder = f"{version.name}-{version.version}"
    names = [CARD_FILE, *version.card["files"]]
    with atomic_path(dest) as temp:
        if kind == "tar":
            with tarfile.open(temp, "w:gz") as archive:
                for name in names:
                    info = archive.gettarinfo(version.path / name, arcname=f"{folder}/{name}")
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mode = 0o644
                    with open(version.path / name, "rb") as handle:
                        archive.addfile(info, handle)
        else:
            with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name in names:
                    archive.write(version.path / name, arcname=f"{folder}/{name}")
    return dest


class _Member:
    """One regular file in an archive, with a way to open it."""

    def __init__(self, name: str, size: int, opener):
        self.name = name
        self.size = size
        self.open = opener


def _clean_member_name(archive: Path, raw: str) -> str:
    name = raw[2:] if raw.startswith("./") else raw
    name = name.rstrip("/")
    try:
        return check_relative_path(name)
    except ValueError as error:
        raise DataError(f"refused archive member: {error}", archive) from None


@contextmanager
def _open_members(archive: Path) -> Iterator[list[_Member]]:
    """The regular files of a tar or zip archive; anything else in it is a DataError."""
    sizes = _SizeCheck(archive)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zipped:
            members = []
            for info in zipped.infolist():
                name = _clean_member_name(archive, info.filename)
                mode = info.external_attr >> 16
                if info.is_dir():
                    continue
                sizes.add(name, info.file_size)
                if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                    kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
                    raise DataError(f"refused archive member {name!r}: {kind}", archive)
                members.append(_Member(name, info.file_size,
                                       lambda info=info: zipped.open(info)))
            yield members
        return
    try:
        tarred = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError) as error:
        raise DataError(f"not a .tar.gz or .zip archive ({error})", archive) from None
    with tarred:
        members = []
        for info in _tar_members(tarred, archive, sizes):
            name = _clean_member_name(archive, info.name)
            if info.isdir():
                continue
            if not info.isreg():
                kind = ("a symbolic link" if info.issym() else "a hard link" if info.islnk()
                        else "not a regular file")
                raise DataError(f"refused archive member {name!r}: {kind}", archive)
            members.append(_Member(name, info.size,
                                   lambda info=info: tarred.extractfile(info)))
        yield members


def _tar_members(tarred: tarfile.TarFile, archive: Path,
                 sizes: _SizeCheck) -> list[tarfile.TarInfo]:
    """The members, header by header: each declared size is checked before the reader
    skips (decompresses) that member's data to reach the next header."""
    infos = []
    try:
        while (info := tarred.next()) is not None:
            sizes.add(info.name, info.size)
            infos.append(info)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(f"damaged archive ({error})", archive) from None
    return infos


def _strip_top_folder(members: list[_Member]) -> str:
    """The common top folder (``name-3/``) to drop, or ``""`` for a flat archive."""
    names = [m.name for m in members]
    if CARD_FILE in names:
        return ""
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) == 1 and all("/" in name for name in names):
        return tops.pop() + "/"
    return ""


def _copy_limited(source: IO[bytes], target: Path, budget: list[int], archive: Path,
                  registry: Registry) -> None:
    # Reading is the archive's business, writing the registry's: a failed write must not
    # be reported as a damaged archive.
    with registry.writing():
        target.parent.mkdir(parents=True, exist_ok=True)
        out = open(target, "wb")  # noqa: SIM115 (closed below)
    try:
        while chunk := source.read(1 << 20):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise DataError(f"the archive unpacks to more than {MAX_ARCHIVE_BYTES >> 30} "
                                "GiB; refused", archive)
            with registry.writing():
                out.write(chunk)
        with registry.writing():
            out.close()  # the last flush can fail too
    finally:
        with contextlib.suppress(OSError):
            out.close()


# What zipfile, tarfile, gzip and zlib raise on a damaged archive (a member's header, its
# compressed data or its CRC): reported as a DataError naming the archive.
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error, EOFError,
           NotImplementedError, UnicodeDecodeError)
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def import_archive(registry: Registry, archive: Path, name: str | None = None, *,
                   aliases: Iterable[str] = (), tags: Iterable[str] = ()) -> ModelVersion:
    """Check an exported archive and publish it as the next version of ``name``
    (default: the name in its card). A damaged archive is a DataError naming it."""
    archive = Path(archive).expanduser()
    try:
        return _import_archive(registry, archive, name, aliases=aliases, tags=tags)
    except _DAMAGE as error:
        raise DataError(f"damaged archive ({type(error).__name__}: {error})", archive) from None
    except RuntimeError as error:  # zipfile: an encrypted member
        if "encrypted" not in str(error):
            raise
        raise DataError(f"refused archive: {error}", archive) from None
    except OSError as error:
        if error.errno in _NO_ROOM or isinstance(error, DataError):
            raise  # a full disk is not the archive's fault
        raise DataError(f"cannot read the archive ({error})", archive) from None


def _import_archive(registry: Registry, archive: Path, name: str | None, *,
                    aliases: Iterable[str], tags: Iterable[str]) -> ModelVersion:
    if not archive.is_file():
        raise DataError("archive not found", archive)
    if name is not None:
        check_name(name)
    with _open_members(archive) as members:
        if not members:
            raise DataError("the archive is empty", archive)
        prefix = _strip_top_folder(members)
        seen: set[str] = set()
        for member in members:
            relative = member.name[len(prefix):]
            if not member.name.startswith(prefix) or not relative:
                raise DataError(f"archive member {member.name!r} is outside {prefix!r}",
                                archive)
            if relative in seen:
                raise DataError(f"archive member {member.name!r} appears twice", archive)
            seen.add(relative)
        if CARD_FILE not in seen:
            raise DataError(f"the archive has no {CARD_FILE}: not an rnn-tui model", archive)
        card_member = next(m for m in members if m.name == prefix + CARD_FILE)
        with card_member.open() as handle:
            raw = handle.read(16 << 20)
        where = f"{archive}:{card_member.name}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DataError(f"the model card is not valid JSON ({error})", where) from None
        card = parse_json(text, where, what="the model card is not valid JSON")
        card = validate_card(card, where)
        listed = set(card["files"])
        extra = sorted(seen - listed - {CARD_FILE})
        missing = sorted(listed - seen)
        if extra:
            raise DataError(f"files not listed in the card: {', '.join(extra)}", archive)
        if missing:
            raise DataError(f"files listed in the card are missing: {', '.join(missing)}",
                            archive)
        target_name = check_name(name or card["name"])
        budget = [MAX_ARCHIVE_BYTES]
        with registry.staging(target_name) as stage:
            for member in members:
                relative = member.name[len(prefix):]
                if relative == CARD_FILE:
                    continue
                target = stage.path / relative
                with member.open() as source:
                    _copy_limited(source, target, budget, archive, registry)
                if sha256_file(target) != card["files"][relative]:
                    raise DataError(f"{relative} does not match the sha256 in the card: the "
                                    "archive is damaged or was changed", archive)
            # Where it came from: the file (and its hash, to tell two copies apart) and the
            # name, version and date it had in the registry that exported it.
            card["imported"] = {"archive": archive.name, "sha256": sha256_file(archive),
                                "name": card["name"], "version": card["version"],
                                "created": card.get("created"), "at": utc_now()}
            aliases = list(aliases)
            # A first import becomes @best, as a first training run does; a later one
            # leaves the alias where it is (`models alias NAME best N` moves it).
            claims = {} if "best" in aliases else {"best": lambda current: current is None}
            return stage.publish(card, aliases=aliases, tags=tags, claims=claims)


__all__ = ["export_version", "import_archive", "archive_kind", "MAX_ARCHIVE_BYTES",
           "MAX_RATIO"]
