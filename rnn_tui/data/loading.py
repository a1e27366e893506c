"""Loading a corpus by name or path: the loader of each catalog corpus, its options checked.

>>> load_corpus("multiplication", train_size=2560, seed=0).train.features.shape
(2560, 100, 2)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnn_tui.data import catalog
from rnn_tui.data.corpus import Corpus
from rnn_tui.errors import UserError


def corpus_names() -> list[str]:
    """The catalog's corpus names, in display order."""
    return catalog.names()


def corpus_loader(name: str) -> Callable[..., Corpus]:
    """The loader function of a catalog corpus; an unknown name is a NotFoundError."""
    info = catalog.get(name)
    if info.synthetic:
        from rnn_tui.data.synthetic import LOADERS

        return LOADERS[name]
    from rnn_tui.data.store import corpus_module

    return corpus_module(name).load


_SIMPLE_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "None": (type(None),),
}


def _accepts(annotation: str, value: Any) -> bool:
    """Whether ``value`` fits a simple annotation like "int | None"; unknown kinds pass."""
    allowed: list[type] = []
    for part in (p.strip() for p in annotation.split("|")):
        if part not in _SIMPLE_TYPES:
            return True
        allowed.extend(_SIMPLE_TYPES[part])
    if isinstance(value, bool) and bool not in allowed:
        return False  # True is an int to Python, not to a user
    return isinstance(value, tuple(allowed))


def _check_options(loader: Callable[..., Corpus], what: str, options: dict[str, Any]) -> None:
    parameters = {
        p.name: p for p in inspect.signature(loader).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = sorted(set(options) - set(parameters))
    if unknown:
        raise UserError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for {what} (options: {', '.join(parameters) or 'none'})"
        )
    for name, value in options.items():
        annotation = parameters[name].annotation
        if isinstance(annotation, str) and not _accepts(annotation, value):
            raise UserError(f"option {name} of {what} must be {annotation}, not {value!r}")


def load_corpus(name_or_path: str | Path, **options: Any) -> Corpus:
    """Load a catalog corpus by name, or your own data from a path.

    Args:
        name_or_path: a name from :func:`corpus_names`, or the path of a CSV/TSV/JSONL file
            or of a folder with one sub-folder per class (see ``rnn_tui.data.tabular``).
        **options: the loader's options, e.g. ``form="npz"`` (imdb, reuters),
            ``split="modapte"`` (reuters), ``train_size=2560, seed=0`` (synthetic),
            ``text_col="review"`` (your own data); ``data_home=Path`` overrides the data
            home for catalog corpora. An unknown option is a UserError listing the known ones.

    Raises:
        NotFoundError: an unknown name, or a corpus not in the data home.
        DataError: a file that is missing, unreadable or malformed (with file and line).

    >>> load_corpus("multiplication", train_size=2560, seed=0).train.features.shape
    (2560, 100, 2)
    """
    from rnn_tui.data import tabular

    name = str(name_or_path)
    if isinstance(name_or_path, Path) or (
        name not in catalog.CORPORA and tabular.looks_like_path(name)
    ):
        options.pop("data_home", None)
        _check_options(tabular.load, f"your data ({name})", options)
        return tabular.load(name_or_path, **options)
    loader = corpus_loader(name)
    data_home = options.pop("data_home", None)
    _check_options(loader, name, options)
    return loader(data_home, **options)
