"""The registries a user sees: their own (writable) first, then the shipped one (read-only).

Name resolution takes the first registry that has the name at all, so a user's model named
like a shipped one hides it completely (``name:3`` does not fall through to the shipped
registry's version 3). Every change goes to the user's registry.

>>> registries = open_registries()                                  # doctest: +SKIP
>>> registries.resolve("imdb-lstm@best").source                     # doctest: +SKIP
'user'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rnn_tui import paths
from rnn_tui.errors import NotFoundError, UserError
from rnn_tui.registry.names import ModelRef, check_name
from rnn_tui.suggestions import close_matches
from rnn_tui.registry.folder import Build, Registry, Stage
from rnn_tui.registry.versions import ModelList, ModelVersion


class Registries:
    """The user's registry followed by the shipped one (``shipped`` may be None)."""

    def __init__(self, user: Registry, shipped: Registry | None = None):
        self.user = user
        self.shipped = shipped

    @property
    def all(self) -> list[Registry]:
        return [self.user] + ([self.shipped] if self.shipped is not None else [])

    def __repr__(self) -> str:
        return f"Registries(user={self.user!r}, shipped={self.shipped!r})"

    # ------------------------------------------------------------------ reading
    def names(self) -> list[str]:
        return sorted({name for registry in self.all for name in registry.names()})

    def registry_for(self, name: str) -> Registry | None:
        """The registry whose model ``name`` resolution would use, or None."""
        for registry in self.all:
            if registry.has_model(name):
                return registry
        return None

    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """Resolve in the user's registry, then the shipped one; see Registry.resolve."""
        ref = ModelRef.parse(ref)
        registry = self.registry_for(ref.name)
        if registry is None:
            raise NotFoundError(f"no model named {ref.name!r}"
                                + close_matches(ref.name, self.names()))
        return registry.resolve(ref)

    def list_models(self) -> ModelList:
        """User models, then shipped ones (a shipped name the user shadows is left out)."""
        combined = ModelList()
        seen: set[str] = set()
        for registry in self.all:
            listing = registry.list_models()
            combined.extend(summary for summary in listing if summary.name not in seen)
            combined.warnings.extend(listing.warnings)
            seen.update(registry.names())
        return combined

    def generation(self) -> str:
        return "/".join(registry.generation() for registry in self.all)

    # ------------------------------------------------------------------ writing (user's)
    def _writable_for(self, name: str) -> Registry:
        check_name(name)
        if not self.user.has_model(name) and self.shipped is not None \
                and self.shipped.has_model(name):
            raise UserError(
                f"{name!r} is a shipped model and read-only: export it and import it under "
                "your own name to change it")
        return self.user

    def staging(self, name: str):
        return self.user.staging(name)

    def publish(self, name: str, build: Build | str | Path,
                card: Mapping[str, Any] | None = None, *, aliases: Iterable[str] = (),
                tags: Iterable[str] = ()) -> ModelVersion:
        return self.user.publish(name, build, card, aliases=aliases, tags=tags)

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        return self._writable_for(name).set_alias(name, alias, version)

    def remove_alias(self, name: str, alias: str) -> None:
        self._writable_for(name).remove_alias(name, alias)

    def add_tag(self, name: str, version: int, tag: str) -> None:
        self._writable_for(name).add_tag(name, version, tag)

    def remove_tag(self, name: str, version: int, tag: str) -> None:
        self._writable_for(name).remove_tag(name, version, tag)

    def remove(self, ref: str | ModelRef) -> list[str]:
        ref = ModelRef.parse(ref)
        return self._writable_for(ref.name).remove(ref)

    def export(self, ref: str | ModelRef | ModelVersion, dest: str | Path) -> Path:
        version = ref if isinstance(ref, ModelVersion) else self.resolve(ref)
        return version.registry.export(version, dest)

    def import_archive(self, path: str | Path, name: str | None = None, **options: Any
                       ) -> ModelVersion:
        return self.user.import_archive(path, name, **options)


def open_registries() -> Registries:
    """The user's registry (``$RNN_TUI_HOME/models``) and the shipped one, if present."""
    shipped_dir = paths.shipped_models_dir()
    shipped = Registry(shipped_dir, read_only=True) if shipped_dir is not None else None
    return Registries(Registry(paths.registry_root()), shipped)


def default_registry() -> Registries:
    """Same as :func:`open_registries` (both names are in use)."""
    return open_registries()


__all__ = ["Registries", "Stage", "open_registries", "default_registry"]
