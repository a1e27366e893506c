"""The models a server answers with: references resolved through the registries, loaded
once, and swapped for the new version soon after an alias moves or a version is published.

Requests never touch the disk on the fast path: a reference already seen maps to a loaded
``Predictor`` in a dict. A watcher thread polls ``Registries.generation()`` (a few
``stat`` calls) every ``check_interval`` seconds; when it changes, every reference seen is
resolved again, a version not yet loaded is loaded in the watcher's thread, and only then is
the reference pointed at it. Requests keep being answered by the old version meanwhile, so a
moved alias costs no request a wait or a failure, and each answer names the version that gave
it.

>>> pool = ModelPool(["imdb-sentiment@prod"])                        # doctest: +SKIP
>>> pool.start()                                                    # doctest: +SKIP
>>> pool.get("imdb-sentiment").version  # a bare name: the ref served  # doctest: +SKIP
2
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from rnn_tui.errors import NotFoundError, UserError
from rnn_tui.registry import ModelRef, Registries, open_registries

CHECK_INTERVAL_S = 0.2
# versions no reference points at any more, kept loaded in case an alias moves back
SPARE_VERSIONS = 2


class ModelPool:
    """Resolves references (``NAME``, ``NAME:3``, ``NAME@ALIAS``) to loaded predictors.

    Args:
        refs: the models served, as references; a bare name in a request means the
            reference given here (``imdb-sentiment@prod`` makes ``imdb-sentiment`` mean
            ``@prod``). Empty: every model of the registries.
        registries: where models are looked up (default: the user's, then the shipped).
        check_interval: seconds between two looks at the registries' generation.
    """

    def __init__(self, refs: Sequence[str] = (), registries: Registries | None = None,
                 check_interval: float = CHECK_INTERVAL_S):
        self.registries = registries if registries is not None else open_registries()
        self.check_interval = check_interval
        self.defaults: dict[str, ModelRef] = {}
        for text in refs:
            ref = ModelRef.parse(text)
            self.defaults[ref.name] = ref
        self._by_ref: dict[str, Any] = {}  # "name@alias" -> Predictor
        self._by_path: dict[str, Any] = {}  # version folder -> Predictor
        self._names_seen: set[str] = set()
        self._load_lock = threading.Lock()
        self._generation = self.registries.generation()
        self._listing: tuple[str, list[dict[str, Any]]] | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.ready = threading.Event()

    # ------------------------------------------------------------------ names
    def served_names(self) -> list[str]:
        return sorted(self.defaults) if self.defaults else self.registries.names()

    def reference(self, text: str) -> ModelRef:
        """The reference a request's ``{ref}`` stands for; NotFoundError outside the served
        models, UserError for a malformed reference."""
        ref = ModelRef.parse(text)
        if self.defaults:
            if ref.name not in self.defaults:
                raise NotFoundError(f"model {ref.name!r} is not served here (served: "
                                    f"{', '.join(sorted(self.defaults))})")
            if ref.is_plain_name and "@" not in text:  # (NAME@latest means the latest)
                return self.defaults[ref.name]
        return ref

    # ------------------------------------------------------------------ predictors
    def get(self, text: str) -> Any:
        """The predictor answering for a reference (loaded on first use)."""
        ref = self.reference(text)
        key = str(ref)
        predictor = self._by_ref.get(key)
        if predictor is not None:
            return predictor
        with self._load_lock:
            predictor = self._by_ref.get(key)
            if predictor is None:
                predictor = self._load(self.registries.resolve(ref))
                self._by_ref[key] = predictor
                self._names_seen.add(ref.name)
        return predictor

    def is_loaded(self, text: str) -> bool:
        """True when ``get(text)`` would answer from memory, without touching the disk."""
        try:
            return str(self.reference(text)) in self._by_ref
        except UserError:
            return False

    def metric_label(self, text: str) -> str:
        """The name in a reference when it is a model served here, else "-" (so that
        requests for made-up names cannot grow the metrics without bound)."""
        name = text.partition(":")[0].partition("@")[0]
        known = self.defaults if self.defaults else self._names_seen
        return name if name in known else "-"

    def _load(self, version: Any) -> Any:
        from rnn_tui.infer import Predictor

        path = str(version.path)
        predictor = self._by_path.pop(path, None)
        if predictor is None:
            predictor = Predictor.load(version)
        self._by_path[path] = predictor  # (last: the most recently used)
        return predictor

    def preload(self) -> list[str]:
        """Load every served model's default reference; the problems met, one line each."""
        problems = []
        for name in self.served_names():
            ref = self.defaults.get(name, ModelRef(name))
            try:
                self.get(str(ref))
            except UserError as error:
                problems.append(f"{ref}: {error}")
        return problems

    # ------------------------------------------------------------------ watching
    def check(self) -> bool:
        """Look at the registries once; re-resolve every reference seen when they changed.
        True when something changed."""
        generation = self.registries.generation()
        if generation == self._generation:
            return False
        with self._load_lock:
            self._generation = generation
            fresh: dict[str, Any] = {}
            for key in list(self._by_ref):
                try:
                    fresh[key] = self._load(self.registries.resolve(key))
                except UserError:
                    continue  # gone (removed, alias dropped): the next request says so
            self._by_ref = fresh
            used = {id(predictor) for predictor in fresh.values()}
            spare = [path for path, predictor in self._by_path.items()
                     if id(predictor) not in used][-SPARE_VERSIONS:]
            self._by_path = {path: predictor for path, predictor in self._by_path.items()
                             if id(predictor) in used or path in spare}
        return True

    def start(self) -> None:
        """Preload the served models and watch the registries in a daemon thread."""
        if self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watch, name="rnn-tui-model-watch",
                                         daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def _watch(self) -> None:
        self.preload()
        self.ready.set()
        while not self._stop.wait(self.check_interval):
            try:
                self.check()
            except Exception:  # a registry being rewritten by hand: look again next time
                continue

    # ------------------------------------------------------------------ listing
    def listing(self) -> list[dict[str, Any]]:
        """The served models as ``GET /v1/models`` shows them (the cards are read once per
        generation), with the version each default reference is answered by now."""
        generation = self._generation
        if self._listing is None or self._listing[0] != generation:
            served = set(self.served_names())
            models = []
            for summary in self.registries.list_models():
                if summary.name not in served:
                    continue
                default = self.defaults.get(summary.name, ModelRef(summary.name))
                models.append({
                    "name": summary.name, "ref": str(default), "serving_version": None,
                    "latest_version": summary.version, "versions": summary.versions,
                    "aliases": summary.aliases, "tags": summary.tags, "task": summary.task,
                    "labels": summary.labels, "language": summary.language,
                    "source": summary.source,
                    "card": {"dataset": summary.dataset, "arch": summary.arch,
                             "metric": summary.metric, "metric_value": summary.metric_value,
                             "metric_split": summary.metric_split,
                             "created": summary.created, "size_bytes": summary.size_bytes},
                })
            self._listing = (generation, models)
        answer = []
        for model in self._listing[1]:
            serving = self._by_ref.get(model["ref"])
            answer.append({**model, "serving_version": serving.version if serving else None})
        return answer
