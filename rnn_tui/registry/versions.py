"""What the registry hands out: a published version, a list row, a listing warning.

``ModelVersion`` is one immutable version folder; its card is read on first use.
``ModelSummary`` is one row of ``list_models()``, built from card.json alone (never Keras),
and ``ModelList`` is that list plus the warnings met while reading it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnn_tui.errors import DataError, NotFoundError
from rnn_tui.registry.card import CARD_FILE, read_card, sha256_file

if TYPE_CHECKING:
    from rnn_tui.registry.folder import Registry


@dataclass(frozen=True)
class RegistryWarning:
    """Something broken that a listing skipped (the rest of the registry still works)."""

    path: Path
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class ModelSummary:
    """What a model list shows, read from card.json only (never from Keras)."""

    name: str
    versions: list[int]
    version: int  # the version described: the latest one whose card reads
    source: str
    task: str
    created: str
    size_bytes: int
    dataset: str | None = None
    language: str | None = None
    arch: str | None = None
    labels: list[str] = field(default_factory=list)
    metric: str | None = None  # "accuracy", "mae" or "loss"
    metric_value: float | None = None
    metric_split: str | None = None  # "test" or "validation"
    aliases: dict[str, int] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # tags of ``version``
    version_tags: dict[int, list[str]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def accuracy(self) -> float | None:
        return self.metric_value if self.metric == "accuracy" else None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path) if self.path else None
        data["version_tags"] = {str(k): v for k, v in self.version_tags.items()}
        data["accuracy"] = self.accuracy
        return data


class ModelList(list):
    """A ``list[ModelSummary]`` that also carries the warnings met while listing."""

    def __init__(self, items: Iterable[ModelSummary] = (),
                 warnings: Iterable[RegistryWarning] = ()):
        super().__init__(items)
        self.warnings: list[RegistryWarning] = list(warnings)


class ModelVersion:
    """One published version. Its folder never changes; the card is read on first use.

    >>> version = registry.resolve("imdb-lstm@best")          # doctest: +SKIP
    >>> version.card["metrics"]["test"]["accuracy"], version.file("model.keras")  # doctest: +SKIP
    """

    def __init__(self, registry: Registry, name: str, version: int):
        self.registry = registry
        self.name = name
        self.version = version

    @property
    def path(self) -> Path:
        return self.registry.root / self.name / str(self.version)

    @property
    def source(self) -> str:
        return self.registry.source

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    @cached_property
    def card(self) -> dict[str, Any]:
        if not self.path.is_dir():
            raise NotFoundError(f"model version {self.ref} no longer exists ({self.path})")
        return read_card(self._checked(CARD_FILE))

    def has_file(self, name: str) -> bool:
        path = self.path / name
        return path.is_file() and not path.is_symlink()

    def file(self, name: str) -> Path:
        """The path of one of the version's files; a missing file is a DataError naming it,
        and so is a symbolic link (never followed: it could lead outside the registry)."""
        path = self._checked(name)
        if not path.is_file():
            raise DataError(f"model {self.ref} has no file {name!r}", path)
        return path

    def _checked(self, name: str) -> Path:
        path = self.path
        for part in Path(name).parts:  # a linked sub-folder would lead out just as well
            path = path / part
            if path.is_symlink():
                raise DataError(f"{name} of model {self.ref} is or lies in a symbolic link; "
                                "refusing to follow it (it could lead outside the registry)",
                                path)
        return path

    @property
    def aliases(self) -> list[str]:
        """Aliases that point here (``latest`` is not listed: see ``is_latest``)."""
        aliases = self.registry.aliases(self.name)
        return sorted(alias for alias, version in aliases.items() if version == self.version)

    @property
    def tags(self) -> list[str]:
        return self.registry.tags(self.name).get(self.version, [])

    @property
    def is_latest(self) -> bool:
        return self.version == max(self.registry.versions(self.name), default=0)

    def verify(self) -> None:
        """Check every file against the card's sha256; a mismatch is a DataError."""
        for name, expected in self.card["files"].items():
            path = self._checked(name)
            if not path.is_file():
                raise DataError(f"the card lists {name!r} but the file is missing", path)
            if sha256_file(path) != expected:
                raise DataError(
                    f"{name} does not match the sha256 in its card: the file was changed "
                    "or damaged after publishing", path)

    def size_bytes(self) -> int:
        total = 0
        for name in [CARD_FILE, *self.card["files"]]:
            with contextlib.suppress(OSError):
                total += (self.path / name).stat().st_size
        return total

    def __repr__(self) -> str:
        return f"ModelVersion({self.ref!r}, source={self.source!r}, path={str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelVersion) and (self.path, self.source) == (
            other.path, other.source)

    def __hash__(self) -> int:
        return hash((self.path, self.source))


