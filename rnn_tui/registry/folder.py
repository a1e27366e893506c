"""One registry folder: immutable model versions, aliases, tags, and atomic publishing.

Layout (see docs/ARCHITECTURE.md)::

    <root>/<name>/<version>/        one immutable folder per version: card.json + model files
    <root>/<name>/aliases.json      {"best": 2}; "latest" is implicit (the highest version)
    <root>/<name>/tags.json         {"1": ["baseline"]}
    <root>/<name>/.last_version     the highest number ever given, so numbers are never reused
    <root>/.staging/                versions being built (invisible to readers)
    <root>/.trash/                  versions being deleted (invisible to readers)
    <root>/.locks/<name>.lock       serialises the writers of one name
    <root>/.generation              a token rewritten by every change (see ``generation()``)

Why this is safe without reader locks
-------------------------------------
A version is written completely under ``.staging/`` (same filesystem as its final place),
its card last, and then moved into place with one ``os.rename()``. On a local POSIX
filesystem rename(2) swaps a directory entry in one step: another process sees either no
``<name>/<version>`` at all or the complete folder, never a part of it. Removal is the same
move in reverse (into ``.trash/``), then the slow delete happens where nobody looks.
Aliases and tags are small JSON files replaced atomically (temp file + ``os.replace``).
So readers never lock; only writers of the same name take ``.locks/<name>.lock`` (a
``filelock.FileLock``, i.e. ``fcntl.flock`` on Unix), which makes "pick the next number,
rename" and "read-modify-write aliases.json" one step each. Writers of different names
never wait for each other. A writer killed at any moment leaves either nothing visible or a
complete version; flock locks die with their process, and stale staging/trash folders are
swept by the next writer.

NFS: rename is a single RPC and atomic on the server, but clients cache directory listings
for a few seconds (``acdirmax``), so a new version may appear late on another machine.
Linux emulates ``flock()`` on NFS with POSIX byte-range (fcntl) locks, which work across
clients only when the server's lock service works (NFSv4, or lockd for v3) and the mount
doesn't use ``local_lock=``/``nolock``; otherwise two machines may publish the same name
at once. ``RNN_TUI_LOCK=fcntl`` (POSIX record locks) or ``RNN_TUI_LOCK=lockfile``
(an O_EXCL marker file, for mounts without a lock service) pick another kind of lock:
see ``rnn_tui.registry.locking`` for what is safe on which mount.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rnn_tui.errors import DataError, NotFoundError, RnnTuiError, UserError
from rnn_tui.jsontext import parse_json
from rnn_tui.fileio import atomic_write_text, fsync_path, fsync_tree
from rnn_tui.registry.card import (
    CARD_CHECKSUM,
    CARD_FILE,
    CARD_FORMAT,
    CARD_FORMAT_VERSION,
    card_checksum,
    card_json,
    main_metric,
    package_versions,
    sha256_file,
    utc_now,
    validate_card,
)
from rnn_tui.registry.names import (
    LATEST,
    MAX_VERSION_DIGITS,
    ModelRef,
    check_alias,
    check_name,
    check_tag,
    check_version,
)
from rnn_tui.registry.versions import ModelList, ModelSummary, ModelVersion, RegistryWarning
from rnn_tui.suggestions import close_matches

ALIASES_FILE = "aliases.json"
TAGS_FILE = "tags.json"
COUNTER_FILE = ".last_version"
STAGING_DIR = ".staging"
TRASH_DIR = ".trash"
LOCKS_DIR = ".locks"
GENERATION_FILE = ".generation"
# Staging/trash leftovers of a process on another machine are swept after this long.
STALE_AFTER_S = 7 * 24 * 3600
LOCK_TIMEOUT_S = 120.0
_STAMPED_KEYS = ("format", "format_version", "name", "version", "created", "files",
                 CARD_CHECKSUM)

Build = Callable[[Path], Mapping[str, Any]]
# An alias claim: given the card the alias points to now (None: it points nowhere), say
# whether the new version takes the alias. Decided under the name's lock.
Claim = Callable[[Mapping[str, Any] | None], bool]


# A full disk keeps its own message (the CLI's "free some space"); other write failures
# name the registry.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def registry_write_error(root: Path, error: OSError) -> RnnTuiError:
    """One line for a registry that cannot be written: where, and the system's reason.

    >>> print(registry_write_error(Path("/m"), OSError(errno.EROFS, "Read-only file system",
    ...                                                   "/m/.locks/a.lock")))
    cannot write to the model registry /m: Read-only file system (/m/.locks/a.lock); nothing ...
    """
    reason = error.strerror or str(error) or type(error).__name__
    where = f" ({error.filename})" if error.filename else ""
    return RnnTuiError(f"cannot write to the model registry {root}: {reason}{where}; "
                       "nothing was changed")


def _move_into_place(source: Path, target: Path) -> None:
    """The atomic step of publishing (a separate function so tests can interrupt it)."""
    os.rename(source, target)


_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _owner_token() -> str:
    """``host.pid.random``: lets a later writer tell a dead writer's leftovers."""
    return f"{_HOST}.{os.getpid()}.{secrets.token_hex(4)}"


def _owner_is_gone(entry_name: str, mtime: float) -> bool:
    parts = entry_name.split(".")
    if time.time() - mtime > STALE_AFTER_S:
        return True
    if len(parts) < 4 or parts[-3] != _HOST or not parts[-2].isdigit():
        return False
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but not ours to signal
        return False
    return False


class Stage:
    """A version being built: write files into ``path``, then ``publish(card)``."""

    def __init__(self, registry: Registry, name: str, path: Path):
        self.registry = registry
        self.name = name
        self.path = path
        self.published: ModelVersion | None = None
        self.claimed: list[str] = []

    def publish(self, card: Mapping[str, Any], *, aliases: Iterable[str] = (),
                tags: Iterable[str] = (), claims: Mapping[str, Claim] | None = None
                ) -> ModelVersion:
        """Stamp the card (name, version, created, files), then move the folder into place.

        ``claims`` maps an alias to a test (see ``Claim``) run under the name's lock once the
        version is in place: two publishers finishing at once cannot both take it. The
        aliases taken are in ``self.claimed`` afterwards.

        >>> stage.publish(card, claims={"best": lambda current: current is None})  # doctest: +SKIP
        """
        if self.published is not None:
            raise RnnTuiError(f"{self.name}: this staging folder was already published")
        with self.registry.writing():
            self.published = self.registry._publish_stage(self, card, aliases, tags,
                                                          claims or {})
        return self.published


def _is_number(text: str) -> bool:
    """ASCII digits, few enough for int(): str.isdigit() also takes "²", which int()
    refuses (a folder or a tags.json key made by hand)."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_VERSION_DIGITS


class Registry:
    """A registry folder. ``read_only`` ones (the shipped models) refuse every change.

    >>> registry = Registry(tmp_path / "models")                        # doctest: +SKIP
    >>> def build(folder):                                              # doctest: +SKIP
    ...     model.save(folder / "model.keras")
    ...     return {"task": "binary", "labels": ["neg", "pos"]}
    >>> registry.publish("demo", build, aliases=["best"]).ref          # doctest: +SKIP
    'demo:1'
    """

    def __init__(self, root: str | Path, read_only: bool = False, source: str | None = None,
                 lock_timeout: float = LOCK_TIMEOUT_S):
        self.root = Path(root).expanduser()
        self.read_only = read_only
        self.source = source or ("shipped" if read_only else "user")
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"Registry({str(self.root)!r}{mode})"

    # ------------------------------------------------------------------ reading
    def names(self) -> list[str]:
        """Names that have at least one version, sorted."""
        return [name for name in self._name_dirs() if self.versions(name)]

    def _name_dirs(self) -> list[str]:
        # Real folders only: a symbolic link could lead anywhere outside the registry.
        try:
            entries = os.scandir(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return []
        with entries:
            names = [e.name for e in entries
                     if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
        return sorted(names)

    def _links(self) -> list[Path]:
        """Symbolic links where a model or a version folder would be (they are ignored)."""
        links: list[Path] = []
        folders = [self.root, *(self.root / name for name in self._name_dirs())]
        for folder in folders:
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                links += [Path(e.path) for e in entries
                          if e.is_symlink() and not e.name.startswith(".")
                          and (folder == self.root or _is_number(e.name))]
        return sorted(links)

    def has_model(self, name: str) -> bool:
        return bool(self.versions(name))

    def versions(self, name: str) -> list[int]:
        """The published version numbers of ``name``, ascending ([] if none).

        Only real folders count: a symbolic link (to a model folder or a version folder) is
        never followed, so nothing outside the registry's folder can pose as a version.
        """
        if (self.root / name).is_symlink():
            return []
        try:
            entries = os.scandir(self.root / name)
        except (FileNotFoundError, NotADirectoryError):
            return []
        with entries:
            return sorted(
                int(e.name) for e in entries
                if _is_number(e.name) and e.name == str(int(e.name)) and int(e.name) > 0
                and e.is_dir(follow_symlinks=False)
            )

    def aliases(self, name: str) -> dict[str, int]:
        """``{alias: version}`` (without the implicit ``latest``)."""
        data = self._read_json(self.root / name / ALIASES_FILE, {})
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in data.items()
        ):
            raise DataError("aliases must map alias names to version numbers",
                            self.root / name / ALIASES_FILE)
        return dict(data)

    def tags(self, name: str) -> dict[int, list[str]]:
        """``{version: [tags]}``."""
        path = self.root / name / TAGS_FILE
        data = self._read_json(path, {})
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and _is_number(k) and isinstance(v, list)
            and all(isinstance(t, str) for t in v)
            for k, v in data.items()
        ):
            raise DataError("tags must map version numbers to lists of tags", path)
        return {int(k): list(v) for k, v in data.items()}

    @staticmethod
    def _read_json(path: Path, missing: Any) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return missing
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(f"cannot read: {error}", path) from None
        return parse_json(text, path)

    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """``name`` (latest), ``name:3`` or ``name@alias`` -> ModelVersion.

        Unknown names, versions and aliases raise NotFoundError with close matches.
        """
        ref = ModelRef.parse(ref)
        versions = self.versions(ref.name)
        if not versions:
            raise NotFoundError(
                f"no model named {ref.name!r} in {self.root}"
                + close_matches(ref.name, self.names()))
        if ref.version is not None:
            if ref.version not in versions:
                raise NotFoundError(
                    f"model {ref.name!r} has no version {ref.version} "
                    f"(versions: {_ranges(versions)})")
            return ModelVersion(self, ref.name, ref.version)
        if ref.alias is not None:
            aliases = self.aliases(ref.name)
            if ref.alias not in aliases:
                known = ", ".join(sorted([LATEST, *aliases]))
                raise NotFoundError(
                    f"model {ref.name!r} has no alias {ref.alias!r} (aliases: {known})"
                    + close_matches(ref.alias, aliases))
            version = aliases[ref.alias]
            if version not in versions:
                raise NotFoundError(
                    f"alias {ref.name}@{ref.alias} points to version {version}, "
                    "which no longer exists")
            return ModelVersion(self, ref.name, version)
        return ModelVersion(self, ref.name, versions[-1])

    def list_versions(self, name: str) -> list[ModelVersion]:
        return [ModelVersion(self, name, v) for v in self.versions(name)]

    def list_models(self) -> ModelList:
        """One ModelSummary per name, from card.json files only; broken entries become
        ``warnings`` on the returned list instead of errors."""
        summaries = ModelList()
        for link in self._links():
            summaries.warnings.append(RegistryWarning(
                link, f"{link}: skipped: a symbolic link (the registry never follows links, "
                      "which could lead outside its folder)"))
        for name in self._name_dirs():
            try:
                check_name(name)
            except UserError as error:
                summaries.warnings.append(
                    RegistryWarning(self.root / name, f"{self.root / name}: skipped: {error}"))
                continue
            versions = self.versions(name)
            if not versions:
                continue
            summary = self._summarise(name, versions, summaries.warnings)
            if summary is not None:
                summaries.append(summary)
        return summaries

    def _summarise(self, name: str, versions: list[int],
                   warnings: list[RegistryWarning]) -> ModelSummary | None:
        try:
            aliases = self.aliases(name)
        except DataError as error:
            warnings.append(RegistryWarning(error.path or self.root / name, str(error)))
            aliases = {}
        try:
            version_tags = self.tags(name)
        except DataError as error:
            warnings.append(RegistryWarning(error.path or self.root / name, str(error)))
            version_tags = {}
        for version in reversed(versions):
            model_version = ModelVersion(self, name, version)
            try:
                card = model_version.card
            except (DataError, NotFoundError) as error:
                where = getattr(error, "path", None) or model_version.path
                warnings.append(RegistryWarning(where, str(error)))
                continue
            metric = main_metric(card)
            dataset = card.get("dataset") or {}
            architecture = card.get("architecture") or {}
            return ModelSummary(
                name=name, versions=versions, version=version, source=self.source,
                task=card["task"], created=card["created"],
                size_bytes=model_version.size_bytes(),
                dataset=dataset.get("name") if isinstance(dataset, Mapping) else None,
                language=card.get("language"),
                arch=architecture.get("arch") if isinstance(architecture, Mapping) else None,
                labels=list(card.get("labels") or []),
                metric=metric[0] if metric else None,
                metric_value=metric[1] if metric else None,
                metric_split=metric[2] if metric else None,
                aliases=aliases, tags=version_tags.get(version, []),
                version_tags=version_tags, path=model_version.path,
            )
        return None

    def generation(self) -> str:
        """A cheap value that changes whenever a version, alias or tag changes.

        It combines the token that every change rewrites with the modification times of the
        root and name folders (which also catches changes made by hand). Poll it once a
        second and reload the list when it differs.
        """
        digest = hashlib.blake2b(digest_size=12)
        try:
            digest.update((self.root / GENERATION_FILE).read_bytes())
        except OSError:
            digest.update(b"-")
        try:
            digest.update(str(os.stat(self.root).st_mtime_ns).encode())
        except OSError:
            return "absent"
        for name in self._name_dirs():
            with contextlib.suppress(OSError):
                stamp = os.stat(self.root / name).st_mtime_ns
                digest.update(f"{name}={stamp};".encode())
        return digest.hexdigest()

    # ------------------------------------------------------------------ writing
    def _check_writable(self) -> None:
        if self.read_only:
            raise UserError(
                f"{self.root} is a read-only registry (the shipped models): "
                "copy a model with `rnn-tui models export` and `models import` to change it")

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around the registry's own writes: an OSError (read-only mount, permission
        denied, EIO) becomes one line naming the registry; a full disk passes through."""
        try:
            yield
        except OSError as error:
            if error.errno in NO_ROOM:
                raise
            raise registry_write_error(self.root, error) from None

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        from filelock import Timeout

        from rnn_tui.registry.locking import interprocess_lock

        locks = self.root / LOCKS_DIR
        locks.mkdir(parents=True, exist_ok=True)
        # flock by default; RNN_TUI_LOCK=fcntl|lockfile for NFS mounts (see registry.locking)
        lock = interprocess_lock(locks / f"{name}.lock", timeout=self.lock_timeout)
        try:
            lock.acquire()
        except Timeout:
            raise RnnTuiError(
                f"another process has held the lock on model {name!r} for "
                f"{self.lock_timeout:.0f} s ({lock.lock_file}); try again") from None
        try:
            # Only lock holders write in the model's folder: a temporary file there now is
            # what a writer killed mid-write left (aliases, tags, the counter).
            _remove_temp_files(self.root / name)
            yield
        finally:
            lock.release()

    def _bump_generation(self) -> None:
        # Best effort: the change is made already, and generation() also folds in the
        # folders' modification times, so a failed write (a full disk) still shows.
        with contextlib.suppress(OSError):
            atomic_write_text(self.root / GENERATION_FILE, secrets.token_hex(8))

    @contextlib.contextmanager
    def staging(self, name: str) -> Iterator[Stage]:
        """A fresh staging folder for a new version of ``name``; removed unless published.

        >>> with registry.staging("demo") as stage:                      # doctest: +SKIP
        ...     model.save(stage.path / "model.keras")
        ...     version = stage.publish({"task": "binary", "labels": ["neg", "pos"]})
        """
        self._check_writable()
        check_name(name)
        self.sweep()
        staging_root = self.root / STAGING_DIR
        path = staging_root / f"{name}.{_owner_token()}"
        with self.writing():
            staging_root.mkdir(parents=True, exist_ok=True)
            path.mkdir()
        stage = Stage(self, name, path)
        try:
            yield stage
        finally:
            if stage.published is None:
                shutil.rmtree(path, ignore_errors=True)

    def publish(self, name: str, build: Build | str | Path,
                card: Mapping[str, Any] | None = None, *, aliases: Iterable[str] = (),
                tags: Iterable[str] = ()) -> ModelVersion:
        """Publish a new version of ``name`` and return it.

        (The version becomes visible first and its ``aliases``/``tags`` a moment later, both
        under the name's lock: a reader may briefly see the new version without them.)

        ``build`` is either a function that writes the files into the staging folder it is
        given and returns the card, or a folder to copy (its card comes from ``card`` or its
        own card.json). The registry fills in format, name, version, created, packages and
        the sha256 of every file. On any failure nothing becomes visible.
        """
        with self.staging(name) as stage:
            if callable(build):
                returned = build(stage.path)
                card = returned if returned is not None else card
            else:
                source = Path(build)
                if not source.is_dir():
                    raise UserError(f"{source} is not a folder to publish")
                _copy_folder(source, stage.path)
                if card is None:
                    card = self._read_json(stage.path / CARD_FILE, None)
            if not isinstance(card, Mapping):
                raise UserError(f"publishing {name!r}: no card was given (got {card!r})")
            return stage.publish(card, aliases=aliases, tags=tags)

    def _publish_stage(self, stage: Stage, card: Mapping[str, Any], aliases: Iterable[str],
                       tags: Iterable[str], claims: Mapping[str, Claim]) -> ModelVersion:
        name = stage.name
        aliases = [check_alias(a) for a in aliases]
        tags = [check_tag(t) for t in tags]
        for alias in claims:
            check_alias(alias)
        # The identifying keys first, so card.json reads well; the caller's sections follow.
        card = {"format": CARD_FORMAT, "format_version": CARD_FORMAT_VERSION, "name": name,
                "version": 1,  # a placeholder until the lock gives the real number
                "created": card.get("created") or utc_now(),
                **{k: v for k, v in card.items() if k not in _STAMPED_KEYS}}
        card["files"] = _hash_files(stage.path)
        fsync_tree(stage.path)  # the files on disk before a rename can make them visible
        packages = package_versions()
        packages.update(card.get("packages") or {})
        card["packages"] = packages
        validate_card(card, f"the card of the new version of {name!r}")
        with self._lock(name):
            name_dir = self.root / name
            if not name_dir.is_dir():
                name_dir.mkdir(parents=True, exist_ok=True)
                fsync_path(self.root)  # the new model's folder survives a power loss too
            version = self._next_version(name)
            card["version"] = version
            card[CARD_CHECKSUM] = card_checksum(card)
            atomic_write_text(stage.path / CARD_FILE, card_json(card))
            fsync_path(stage.path)
            # Count first: if we die before the rename the number is skipped, never reused.
            atomic_write_text(name_dir / COUNTER_FILE, f"{version}\n")
            _move_into_place(stage.path, name_dir / str(version))
            fsync_path(name_dir)
            try:
                stage.claimed = [alias for alias, wins in claims.items() if alias not in
                                 aliases and wins(self._alias_card(name, alias))]
                aliases += stage.claimed
                if aliases:
                    current = self.aliases(name)
                    current.update({alias: version for alias in aliases})
                    self._write_aliases(name, current)
                if tags:
                    current_tags = self.tags(name)
                    current_tags[version] = sorted(set(current_tags.get(version, []))
                                                   | set(tags))
                    self._write_tags(name, current_tags)
            except BaseException:
                # e.g. the disk filled up: all or nothing, so the version goes again
                self._withdraw(name, version)
                raise
        self._bump_generation()
        return ModelVersion(self, name, version)

    def _withdraw(self, name: str, version: int) -> None:
        """Take back a version just renamed into place (under the lock): into the trash."""
        trash = self.root / TRASH_DIR
        with contextlib.suppress(OSError):
            trash.mkdir(parents=True, exist_ok=True)
            target = trash / f"{name}-{version}.{_owner_token()}"
            os.rename(self.root / name / str(version), target)
            fsync_path(self.root / name)
            shutil.rmtree(target, ignore_errors=True)

    def _alias_card(self, name: str, alias: str) -> dict[str, Any] | None:
        """The card ``name@alias`` points to, or None (no such alias, or a broken target)."""
        try:
            return self.resolve(ModelRef(name, alias=alias)).card
        except (NotFoundError, DataError):
            return None

    def claim_alias(self, name: str, alias: str, version: int, wins: Claim) -> bool:
        """Point ``name@alias`` at ``version`` if ``wins(card it points to now)`` says so,
        deciding under the name's lock; returns whether it moved (or already pointed there)."""
        self._check_writable()
        check_name(name)
        check_alias(alias)
        version = check_version(version)
        with self.writing(), self._lock(name):
            self._require_version(name, version)
            aliases = self.aliases(name)
            if aliases.get(alias) == version:
                return True
            if not wins(self._alias_card(name, alias)):
                return False
            aliases[alias] = version
            self._write_aliases(name, aliases)
        self._bump_generation()
        return True

    def _next_version(self, name: str) -> int:
        counter = self.root / name / COUNTER_FILE
        try:
            last = int(counter.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            last = 0
        return max(last, *self.versions(name), 0) + 1

    def _write_aliases(self, name: str, aliases: Mapping[str, int]) -> None:
        text = json.dumps(dict(sorted(aliases.items())), indent=2) + "\n"
        atomic_write_text(self.root / name / ALIASES_FILE, text)

    def _write_tags(self, name: str, tags: Mapping[int, list[str]]) -> None:
        data = {str(v): sorted(t) for v, t in sorted(tags.items()) if t}
        atomic_write_text(self.root / name / TAGS_FILE,
                          json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def _require_version(self, name: str, version: int) -> None:
        if version not in self.versions(name):
            self.resolve(ModelRef(name, version=version))  # raises the helpful error

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (moving it if it pointed elsewhere)."""
        self._check_writable()
        check_name(name)
        check_alias(alias)
        version = check_version(version)
        with self.writing(), self._lock(name):
            self._require_version(name, version)
            aliases = self.aliases(name)
            aliases[alias] = version
            self._write_aliases(name, aliases)
        self._bump_generation()
        return ModelVersion(self, name, version)

    def remove_alias(self, name: str, alias: str) -> None:
        self._check_writable()
        check_name(name)
        check_alias(alias)
        with self.writing(), self._lock(name):
            aliases = self.aliases(name)
            if alias not in aliases:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}"
                                    + close_matches(alias, aliases))
            del aliases[alias]
            self._write_aliases(name, aliases)
        self._bump_generation()

    def add_tag(self, name: str, version: int, tag: str) -> None:
        self._change_tag(name, version, tag, add=True)

    def remove_tag(self, name: str, version: int, tag: str) -> None:
        self._change_tag(name, version, tag, add=False)

    def _change_tag(self, name: str, version: int, tag: str, *, add: bool) -> None:
        self._check_writable()
        check_name(name)
        check_tag(tag)
        version = check_version(version)
        with self.writing(), self._lock(name):
            self._require_version(name, version)
            tags = self.tags(name)
            current = set(tags.get(version, []))
            if not add and tag not in current:
                raise NotFoundError(f"{name}:{version} has no tag {tag!r}"
                                    + close_matches(tag, current))
            tags[version] = sorted(current | {tag} if add else current - {tag})
            self._write_tags(name, tags)
        self._bump_generation()

    def remove(self, ref: str | ModelRef) -> list[str]:
        """Remove one version (``name:3``, ``name@best``) or, for a bare name, all of them.

        Under the name's lock each version folder is renamed into ``.trash`` (atomic: readers
        see it or not), aliases and tags pointing at it are dropped, then it is deleted.
        Version numbers are not reused afterwards. Returns the refs removed.
        """
        self._check_writable()
        ref = ModelRef.parse(ref)
        trash = self.root / TRASH_DIR
        with self.writing():
            trash.mkdir(parents=True, exist_ok=True)
        moved: list[Path] = []
        removed: list[str] = []
        with self.writing(), self._lock(ref.name):
            if ref.is_plain_name:
                doomed = self.versions(ref.name)
                if not doomed:
                    self.resolve(ref)  # raises NotFoundError with suggestions
            else:
                doomed = [self.resolve(ref).version]
            for version in doomed:
                target = trash / f"{ref.name}-{version}.{_owner_token()}"
                os.rename(self.root / ref.name / str(version), target)
                moved.append(target)
                removed.append(f"{ref.name}:{version}")
            aliases = {a: v for a, v in self._safe_aliases(ref.name).items() if v not in doomed}
            tags = {v: t for v, t in self._safe_tags(ref.name).items() if v not in doomed}
            self._write_aliases(ref.name, aliases)
            self._write_tags(ref.name, tags)
            fsync_path(self.root / ref.name)
        self._bump_generation()
        for path in moved:
            shutil.rmtree(path, ignore_errors=True)
        return removed

    def _safe_aliases(self, name: str) -> dict[str, int]:
        try:
            return self.aliases(name)
        except DataError:  # a damaged file is rewritten rather than blocking removal
            return {}

    def _safe_tags(self, name: str) -> dict[int, list[str]]:
        try:
            return self.tags(name)
        except DataError:
            return {}

    def sweep(self) -> list[Path]:
        """Delete staging and trash folders left by writers that died, and temporary
        generation files older than a minute (a live writer replaces its own at once);
        returns them."""
        swept = _remove_temp_files(self.root, prefix=f".{GENERATION_FILE}.",
                                   older_than=time.time() - 60)
        for folder in (self.root / STAGING_DIR, self.root / TRASH_DIR):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                with contextlib.suppress(OSError):
                    if _owner_is_gone(entry.name, entry.stat(follow_symlinks=False).st_mtime):
                        shutil.rmtree(entry.path, ignore_errors=True)
                        swept.append(Path(entry.path))
        return swept

    # ------------------------------------------------------------------ archives
    def export(self, ref: str | ModelRef | ModelVersion, dest: str | Path) -> Path:
        """Write one version as a .tar.gz/.tgz or .zip archive (atomically)."""
        from rnn_tui.registry.archive import export_version

        version = ref if isinstance(ref, ModelVersion) else self.resolve(ref)
        return export_version(version, Path(dest))

    def import_archive(self, path: str | Path, name: str | None = None, *,
                       aliases: Iterable[str] = (), tags: Iterable[str] = ()) -> ModelVersion:
        """Publish an exported archive as a new version (checked: see registry.archive)."""
        from rnn_tui.registry.archive import import_archive

        return import_archive(self, Path(path), name, aliases=aliases, tags=tags)


def _remove_temp_files(folder: Path, prefix: str = ".", older_than: float | None = None
                       ) -> list[Path]:
    """Delete ``prefix*.tmp`` files (``fileio.atomic_path``'s) in ``folder``."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
                continue
            with contextlib.suppress(OSError):
                if older_than is None or entry.stat(follow_symlinks=False).st_mtime < older_than:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _copy_folder(source: Path, target: Path) -> None:
    """Copy a folder's files (links as links, which publishing then refuses). Unlike
    ``shutil.copytree``, the first failure is raised as it is (a full disk stays ENOSPC)."""
    for directory, subdirs, names in os.walk(source):
        here = target / Path(directory).relative_to(source)
        here.mkdir(parents=True, exist_ok=True)
        for entry in [*subdirs, *names]:
            if entry in names or Path(directory, entry).is_symlink():
                shutil.copy2(Path(directory, entry), here / entry, follow_symlinks=False)


def _hash_files(folder: Path) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file but the card; links are refused."""
    files: dict[str, str] = {}
    for directory, subdirs, names in os.walk(folder):
        for entry in [*subdirs, *names]:
            path = Path(directory) / entry
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                raise UserError(f"{relative}: a model version may hold only regular files, "
                                "not symbolic links")
            if entry in names and not path.is_file():
                raise UserError(f"{relative}: a model version may hold only regular files")
        for entry in names:
            relative = (Path(directory) / entry).relative_to(folder).as_posix()
            if relative == CARD_FILE or entry.startswith(f".{CARD_FILE}."):
                continue
            files[relative] = sha256_file(Path(directory) / entry)
    if not files:
        raise UserError(f"nothing to publish: the staging folder {folder} holds no files")
    return dict(sorted(files.items()))


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    parts: list[str] = []
    start = previous = None
    for number in numbers:
        if start is None:
            start = previous = number
        elif number == previous + 1:
            previous = number
        else:
            parts.append(f"{start}" if start == previous else f"{start}-{previous}")
            start = previous = number
    if start is not None:
        parts.append(f"{start}" if start == previous else f"{start}-{previous}")
    return ", ".join(parts) or "none"
