"""Behavioural test suites for sentiment models: templates -> test cases (CheckList-style).

A suite is a JSON file (``rnn-tui-check-suite``, format 1): a lexicon of slot fillers and a
list of capabilities, each with tests. A test is a fixed ``text`` or a ``template`` whose
``{slot}`` marks are filled from the lexicon, and what it expects: ``positive``,
``negative`` or ``no change``. A ``no change`` test names the slot it ``vary``s: one case is
the template with every value of that slot, and it passes when they all get the same label
(Ribeiro et al., "Beyond Accuracy: Behavioral Testing of NLP Models with CheckList", 2020).

Templates expand to every combination of their slots' values; past ``limit`` combinations
(8 unless the suite says otherwise) a fixed sample is kept, seeded by the template text, so
a suite gives the same cases on every machine and every run.

>>> suite = Suite.shipped("en")
>>> [capability.name for capability in suite.capabilities][:3]
['negation', 'double-negation', 'contrast']
>>> expand("{a} {b}", {"a": ["x", "y"], "b": ["z"]})
[('x z',), ('y z',)]
>>> expand("I saw {n} films", {"n": ["2", "3"]}, vary="n")
[('I saw 2 films', 'I saw 3 films')]
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnn_tui.errors import DataError, UserError

FORMAT = "rnn-tui-check-suite"
FORMAT_VERSION = 1
EXPECTATIONS = ("positive", "negative", "no change")
DEFAULT_LIMIT = 8
MAX_SUITE_BYTES = 2_000_000  # a suite is a hand-written file; anything larger is a mistake
SUITES = Path(__file__).resolve().parent / "suites"
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Case:
    """One test: the text (or, for ``no change``, the texts that must agree) and the
    expectation."""

    capability: str
    texts: tuple[str, ...]
    expect: str
    source: str  # the template or text it came from


@dataclass(frozen=True)
class Capability:
    name: str
    title: str
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class Suite:
    language: str
    title: str
    capabilities: tuple[Capability, ...]
    path: Path

    @property
    def cases(self) -> list[Case]:
        return [case for capability in self.capabilities for case in capability.cases]

    @classmethod
    def shipped_languages(cls) -> list[str]:
        return sorted(path.stem for path in SUITES.glob("*.json"))

    @classmethod
    def shipped(cls, language: str) -> Suite:
        """The suite shipped for a language (``en``, ``ko``)."""
        path = SUITES / f"{language}.json"
        if not path.is_file():
            raise UserError(f"no check suite for language {language!r} (shipped: "
                            f"{', '.join(cls.shipped_languages())}); give one with --suite FILE")
        return cls.load(path)

    @classmethod
    def choose(cls, name: str | None, language: str | None, model: str = "the model") -> Suite:
        """A shipped suite by language name, a suite file, or (``name`` None) the shipped
        suite of the model's ``language``."""
        if name is None:
            if not language:
                raise UserError(f"{model}'s card names no language: choose a suite with "
                                f"--suite ({', '.join(cls.shipped_languages())} or a file)")
            return cls.shipped(language)
        if name in cls.shipped_languages():
            return cls.shipped(name)
        return cls.load(name)

    @classmethod
    def load(cls, path: str | Path) -> Suite:
        """Read and expand a suite file; a malformed one is a DataError naming the file."""
        path = Path(path)
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_SUITE_BYTES + 1)
        except OSError as error:
            raise UserError(f"cannot read {path}: {error.strerror or error}") from None
        if len(raw) > MAX_SUITE_BYTES:
            raise DataError(f"a check suite is at most {MAX_SUITE_BYTES:,} bytes", path)
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise DataError("not UTF-8", path) from None
        except json.JSONDecodeError as error:
            raise DataError(f"not valid JSON: {error.msg}", path, error.lineno) from None
        except RecursionError:
            raise DataError("JSON nested too deeply", path) from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: Path) -> Suite:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(f"not a check suite (its \"format\" must be {FORMAT!r})", path)
        if data.get("format_version") != FORMAT_VERSION:
            raise DataError(f"check suite format_version {data.get('format_version')!r} is "
                            f"not supported (this rnn-tui reads {FORMAT_VERSION})", path)
        lexicon = data.get("lexicon", {})
        if not isinstance(lexicon, dict) or not all(
                isinstance(values, list) and values and all(isinstance(v, str) for v in values)
                for values in lexicon.values()):
            raise DataError("\"lexicon\" must map each slot to a non-empty list of strings", path)
        limit = data.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise DataError("\"limit\" must be a positive integer", path)
        items = data.get("capabilities")
        if not isinstance(items, list) or not items:
            raise DataError("\"capabilities\" must be a non-empty list", path)
        capabilities = []
        for number, item in enumerate(items, 1):
            where = f"capability {number}"
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) \
                    or not isinstance(item.get("tests"), list):
                raise DataError(f"{where} needs a \"name\" and a list of \"tests\"", path)
            name = item["name"]
            cases: list[Case] = []
            for index, test in enumerate(item["tests"], 1):
                cases.extend(_cases(name, test, lexicon, limit, path, f"{name}, test {index}"))
            capabilities.append(Capability(name, str(item.get("title", name)), tuple(cases)))
        names = [capability.name for capability in capabilities]
        if len(set(names)) != len(names):
            raise DataError("capability names must be unique", path)
        return cls(str(data.get("language", "")), str(data.get("title", path.stem)),
                   tuple(capabilities), path)


def _cases(capability: str, test: Any, lexicon: dict[str, list[str]], limit: int,
           path: Path, where: str) -> list[Case]:
    if not isinstance(test, dict):
        raise DataError(f"{where}: a test is an object", path)
    expect = test.get("expect")
    if expect not in EXPECTATIONS:
        raise DataError(f"{where}: \"expect\" must be one of {', '.join(EXPECTATIONS)}", path)
    text, template, vary = test.get("text"), test.get("template"), test.get("vary")
    if (text is None) == (template is None) or not isinstance(text or template, str):
        raise DataError(f"{where}: give a \"text\" or a \"template\" (a string)", path)
    if (expect == "no change") != (vary is not None):
        raise DataError(f"{where}: a \"no change\" test is a template that names the slot "
                        "it \"vary\"s, and only such a test has \"vary\"", path)
    if text is not None:
        if not text.strip():
            raise DataError(f"{where}: the text is empty", path)
        return [Case(capability, (text,), expect, text)]
    unknown = sorted(set(_SLOT.findall(template)) - set(lexicon))
    if unknown:
        raise DataError(f"{where}: the lexicon has no slot {unknown[0]!r}", path)
    if vary is not None and vary not in _SLOT.findall(template):
        raise DataError(f"{where}: \"vary\" names {vary!r}, which the template does not use",
                        path)
    return [Case(capability, texts, expect, template)
            for texts in expand(template, lexicon, vary=vary, limit=limit)]


def expand(template: str, lexicon: dict[str, list[str]], *, vary: str | None = None,
           limit: int = DEFAULT_LIMIT) -> list[tuple[str, ...]]:
    """The texts of a template: one tuple per case (several texts when ``vary`` is set).

    Every combination of the other slots' values, or a fixed sample of ``limit`` of them.
    """
    slots = [slot for slot in dict.fromkeys(_SLOT.findall(template)) if slot != vary]
    total = math.prod(len(lexicon[slot]) for slot in slots)
    if total > limit:
        chooser = random.Random(zlib.crc32(template.encode("utf-8")))
        combinations = [tuple(_nth(lexicon, slots, index))
                        for index in sorted(chooser.sample(range(total), limit))]
    else:
        combinations = list(itertools.product(*(lexicon[slot] for slot in slots)))
    cases = []
    for values in combinations:
        filled = dict(zip(slots, values))
        variants = lexicon[vary] if vary is not None else [None]
        cases.append(tuple(_fill(template, {**filled, **({vary: v} if vary else {})})
                           for v in variants))
    return cases


def _nth(lexicon: dict[str, list[str]], slots: list[str], index: int) -> list[str]:
    """The index-th combination of itertools.product over the slots' values."""
    values = []
    for slot in reversed(slots):
        index, position = divmod(index, len(lexicon[slot]))
        values.append(lexicon[slot][position])
    return values[::-1]


def _fill(template: str, values: dict[str, str]) -> str:
    return _SLOT.sub(lambda match: values[match.group(1)], template)
