"""The search space of ``rnn-tui tune``: the default per task, or a YAML/JSON file.

A space file (YAML; JSON is read the same way)::

    # imdb-space.yaml: what `rnn-tui tune --space imdb-space.yaml` searches
    epochs: 3                  # epochs per trial (pruning may stop a trial after any)
    metric: val_accuracy       # optional; --metric wins
    settings:                  # fixed training settings of every trial (TrainConfig fields)
      cleaner: html
      lr_schedule: linear
    params:
      arch: [lstm, gru, bigru]                           # a list: one of these
      units: {low: 32, high: 128, log: true}             # whole numbers: an int range
      learning_rate: {low: 3.0e-4, high: 3.0e-3, log: true}
      spatial_dropout: {low: 0.0, high: 0.5, step: 0.1}  # a float range (step optional)
      ngrams: [0, 2]                                     # 0: none, 2: bigram features
      maxlen: 400                                        # one value: fixed

Parameters (``PARAMETERS``): ``arch`` (a named architecture of the zoo, or a compact spec),
its knobs (units, layers, embedding_dim, dropout, recurrent_dropout, spatial_dropout,
bidirectional, pool, dense, ngram_dim) and the training settings learning_rate, batch_size,
optimizer, lr_schedule, clipnorm, maxlen, num_words, ngrams, ngram_words, cleaner. An
unknown name, a value a training run would refuse or a malformed file is a DataError naming
the file and line.

>>> space = default_space("binary", text=True)
>>> sorted(space.params)[:3]
['arch', 'embedding_dim', 'learning_rate']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnn_tui.errors import DataError, UserError

MAX_SPACE_BYTES = 256 * 1024  # a space file is a few lines; refuse to read a huge one

ARCH_KNOBS = ("units", "layers", "embedding_dim", "dropout", "recurrent_dropout",
              "spatial_dropout", "bidirectional", "pool", "dense", "ngram_dim")
CONFIG_SETTINGS = ("learning_rate", "batch_size", "optimizer", "lr_schedule", "clipnorm",
                   "maxlen", "num_words", "ngram_words", "cleaner")
PARAMETERS = ("arch", "ngrams", *ARCH_KNOBS, *CONFIG_SETTINGS)
TEXT_ONLY = ("embedding_dim", "spatial_dropout", "maxlen", "num_words", "ngrams",
             "ngram_words", "ngram_dim", "cleaner")
TOP_LEVEL = ("epochs", "metric", "settings", "params")
# settings a space may not fix: the trial machinery owns them
_OWNED = ("name", "epochs", "preset", "dataset", "dataset_options", "format_version")


@dataclass
class Param:
    """One searched parameter: a choice, or an int or float range."""

    name: str
    choices: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    integer: bool = False
    line: int | None = None

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna trial proposes for this parameter."""
        if self.choices is not None:
            return trial.suggest_categorical(self.name, self.choices)
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log,
                                     step=int(self.step or 1))
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log,
                                   step=self.step)

    def corners(self) -> list[Any]:
        """Values that stand for the whole range when checking it."""
        if self.choices is not None:
            return list(self.choices)
        return [int(self.low), int(self.high)] if self.integer else [self.low, self.high]

    def to_dict(self) -> dict[str, Any]:
        if self.choices is not None:
            return {"choices": list(self.choices)}
        data: dict[str, Any] = {"low": self.low, "high": self.high, "log": self.log,
                                "int": self.integer}
        if self.step is not None:
            data["step"] = self.step
        return data


@dataclass
class SearchSpace:
    """What a study searches: the parameters, fixed settings and epochs per trial."""

    name: str
    params: dict[str, Param]
    settings: dict[str, Any] = field(default_factory=dict)
    epochs: int = 3
    metric: str | None = None
    source: str = "default"

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {name: param.suggest(trial) for name, param in self.params.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: stored in the study, so a resumed study can tell it is the same."""
        return {"params": {name: param.to_dict() for name, param in self.params.items()},
                "settings": self.settings, "epochs": self.epochs}


def apply_params(settings: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """TrainConfig settings: ``settings`` with a trial's ``params`` put where they belong.

    >>> apply_params({"cleaner": "html"}, {"arch": "gru", "units": 64, "ngrams": 2})
    {'cleaner': 'html', 'arch': 'gru', 'ngrams': [2], 'arch_options': {'units': 64}}
    """
    result = dict(settings)
    knobs = dict(result.get("arch_options") or {})
    for name, value in params.items():
        if name in ARCH_KNOBS:
            knobs[name] = value
        elif name == "ngrams":
            result["ngrams"] = [] if value in (0, 1, None) else [int(value)]
        else:
            result[name] = value
    if not result.get("ngrams"):
        knobs.pop("ngram_dim", None)  # no n-gram stream to embed in this trial
    if knobs:
        result["arch_options"] = knobs
    return result


def default_space(task: str, *, text: bool) -> SearchSpace:
    """A sensible space for a task: recurrent kinds and sizes, embedding, dropout, rate,
    maxlen, vocabulary and n-grams for texts; kinds, sizes and rate for numeric sequences."""
    if not text:
        return SearchSpace("default", {
            "arch": Param("arch", choices=["simplernn", "lstm", "gru"]),
            "units": Param("units", low=8, high=64, log=True, integer=True),
            "layers": Param("layers", choices=[1, 2]),
            "learning_rate": Param("learning_rate", low=1e-3, high=1e-2, log=True),
            "batch_size": Param("batch_size", choices=[16, 32, 64]),
        }, epochs=10, source="default (numeric sequences)")
    return SearchSpace("default", {
        # unidirectional kinds: "last" pooling needs one, and a CPU runs them 2x faster
        "arch": Param("arch", choices=["simplernn", "lstm", "gru"]),
        "units": Param("units", low=16, high=128, log=True, integer=True),
        "embedding_dim": Param("embedding_dim", low=16, high=128, log=True, integer=True),
        "spatial_dropout": Param("spatial_dropout", low=0.0, high=0.5, step=0.1),
        "pool": Param("pool", choices=[None, "max+average+last"]),
        "learning_rate": Param("learning_rate", low=3e-4, high=3e-3, log=True),
        "maxlen": Param("maxlen", choices=[200, 400, 600]),
        "num_words": Param("num_words", choices=[10000, 20000, 30000]),
        "ngrams": Param("ngrams", choices=[0, 2]),
    }, epochs=3, source=f"default ({task} text)")


# ------------------------------------------------------------------ reading a file
def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SPACE_BYTES + 1)
    except FileNotFoundError:
        raise DataError("search space file not found", path) from None
    except OSError as error:
        raise DataError(f"cannot read the search space file ({error.strerror or error})",
                        path) from None
    if len(data) > MAX_SPACE_BYTES:
        raise DataError(f"a search space file holds at most {MAX_SPACE_BYTES // 1024} KiB",
                        path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise DataError("not UTF-8 text", path, line) from None


def _parse(text: str, path: Path) -> tuple[Any, Any]:
    """(the data, YAML's node tree for line numbers). JSON is YAML, so one parser serves."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = (error.problem or "malformed").strip()
        raise DataError(f"not valid YAML/JSON ({problem})", path,
                        mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise DataError(f"not valid YAML/JSON ({error})", path) from None
    return data, node


def _lines(node: Any) -> dict[tuple[str, ...], int]:
    """(key path) -> 1-based line, for every mapping key of the document."""
    import yaml

    found: dict[tuple[str, ...], int] = {}

    def walk(item: Any, prefix: tuple[str, ...]) -> None:
        if isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                path = (*prefix, str(key.value))
                found[path] = key.start_mark.line + 1
                walk(value, path)

    walk(node, ())
    return found


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def _param(name: str, value: Any, fail) -> Param:
    if name not in PARAMETERS:
        fail(f"unknown parameter {name!r} (known: {', '.join(PARAMETERS)})")
    if isinstance(value, list):
        if not value:
            fail(f"{name}: an empty list of choices")
        if any(isinstance(v, (dict, list)) for v in value):
            fail(f"{name}: choices are plain values (numbers, words, true/false, null)")
        return Param(name, choices=list(value))
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"low", "high", "log", "step"})
        if unknown:
            fail(f"{name}: unknown key(s) {', '.join(unknown)} (a range has low, high, log, "
                 "step)")
        low, high = value.get("low"), value.get("high")
        if not (_number(low) and _number(high)) or low > high:
            fail(f"{name}: a range needs numbers low <= high, not {low!r}..{high!r}")
        log = value.get("log", False)
        step = value.get("step")
        if not isinstance(log, bool):
            fail(f"{name}: log is true or false, not {log!r}")
        if step is not None and (not _number(step) or step <= 0):
            fail(f"{name}: step must be a positive number, not {step!r}")
        if log and (low <= 0 or step is not None):
            fail(f"{name}: a log range needs low > 0 and no step")
        integer = all(isinstance(v, int) for v in (low, high)) and \
            (step is None or isinstance(step, int))
        return Param(name, low=low, high=high, log=log, step=step, integer=integer)
    if value is None or isinstance(value, (str, int, float, bool)):
        return Param(name, choices=[value])
    fail(f"{name}: a list of choices, a range {{low, high}} or one value, not "
         f"{type(value).__name__}")
    raise AssertionError  # fail raises


def load_space(path: str | Path) -> SearchSpace:
    """Read and check a space file (see the module docstring)."""
    path = Path(path)
    data, node = _parse(_read_text(path), path)
    lines = _lines(node)

    def fail(message: str, *key: str) -> None:
        line = None
        for depth in range(len(key), 0, -1):
            line = lines.get(tuple(key[:depth]))
            if line is not None:
                break
        raise DataError(message, path, line)

    if not isinstance(data, dict):
        raise DataError("a search space is a mapping with params (and epochs, metric, "
                        "settings)", path, 1)
    for key in data:
        if key not in TOP_LEVEL:
            fail(f"unknown key {key!r} (known: {', '.join(TOP_LEVEL)})", str(key))
    raw_params = data.get("params")
    if not isinstance(raw_params, dict) or not raw_params:
        fail("params: a mapping of at least one parameter to its values", "params")
    params = {}
    for name, value in raw_params.items():
        params[str(name)] = _param(str(name), value,
                                   lambda message, n=str(name): fail(message, "params", n))
        params[str(name)].line = lines.get(("params", str(name)))
    epochs = data.get("epochs", 3)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        fail(f"epochs must be a whole number >= 1, not {epochs!r}", "epochs")
    metric = data.get("metric")
    if metric is not None and not isinstance(metric, str):
        fail(f"metric must be a name such as val_accuracy, not {metric!r}", "metric")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        fail("settings: a mapping of training settings", "settings")
    for key in settings:
        if key in _OWNED:
            fail(f"settings: {key} is set by tune itself (epochs: the space's top level; "
                 "dataset, name: flags)", "settings", str(key))
    space = SearchSpace(path.stem, params, dict(settings), epochs, metric, source=str(path))
    try:
        check_space(space)
    except _Bad as bad:
        fail(str(bad.error), *bad.key)
    return space


class _Bad(Exception):
    def __init__(self, error: UserError, *key: str) -> None:
        super().__init__(str(error))
        self.error, self.key = error, key


def check_space(space: SearchSpace, dataset: str = "imdb") -> None:
    """Every value a trial could get must make a valid training config: each parameter's
    choices or range ends are tried with the others at their first value."""
    from rnn_tui.train.config import TrainConfig

    base = {"dataset": dataset, "epochs": space.epochs}
    try:
        TrainConfig.from_dict({**base, **space.settings})
    except UserError as error:
        raise _Bad(error, "settings") from None
    if space.settings.get("validation") in ("test", "none"):
        raise _Bad(UserError("settings: trials choose on validation data held out of the "
                             "training split: validation must be a fraction, corpus or "
                             "auto"), "settings", "validation")
    firsts = {name: param.corners()[0] for name, param in space.params.items()}
    for name, param in space.params.items():
        for value in param.corners():
            params = {**firsts, name: value}
            try:
                TrainConfig.from_dict({**base, **apply_params(space.settings, params)})
            except UserError as error:
                raise _Bad(UserError(f"{name}: {value!r}: {error}"), "params", name) from None


def check_space_for_corpus(space: SearchSpace, corpus: Any) -> None:
    """A DataError (file:line) for a text-only parameter on a numeric-sequence corpus."""
    if corpus.is_text or space.source == "default":
        return
    for name, param in space.params.items():
        if name in TEXT_ONLY:
            raise DataError(f"{name}: {corpus.name} holds numeric sequences, not texts",
                            space.source, param.line)
