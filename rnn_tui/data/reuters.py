"""Reuters-21578 newswires, the 46-topic single-label task of ``keras.datasets.reuters``.

Forms, in the order they are looked for in the data home:

- ``reuters21578/reut2-000.sgm`` ... ``reut2-021.sgm`` (extracted), or
- ``reuters21578/reuters21578.tar.gz`` (the UCI KDD archive, read without extracting), both
  ``form="sgml"``;
- ``reuters/reuters.npz`` + ``reuters/reuters_word_index.json``: Keras' pre-tokenized form,
  ``form="npz"``, decoded back to words.

From the SGML:

- A newswire's label is its *first* topic (``<TOPICS><D>..</D>``) when that is one of the 46
  topics of ``keras.datasets.reuters.get_label_names()`` (in that order: see
  ``catalog.REUTERS_LABELS``); other wires are left out. This yields 11,228 wires, the size
  of Keras' dataset, and the Keras split below gives its 8,982 / 2,246 with the same labels
  in the same order (checked against the published ``y_train[:10]``).
- Text = title, a newline, then the body. Files are read as Latin-1 (they are ASCII except
  one stray byte 0xFC), entities (``&lt;``, ``&amp;``, ``&#3;``) are decoded, control
  characters removed, runs of whitespace collapsed, and the closing "Reuter" sign-off
  dropped. Wires of type BRIEF have a title only (914 of them): kept, the title is the
  news. Wires of type UNPROC have no TITLE/BODY tags (61): their raw text is the body. A wire
  left with no text at all would be dropped with a note (none is, in the official files).
  ``title=False`` gives the body only (which is what Keras' word ids appear to encode).
- ``split="keras"``: all 11,228 wires in NEWID order, indices ``np.arange(n)`` shuffled by
  ``numpy.random.RandomState(seed).shuffle`` (seed 113), the first ``int(n * (1 -
  test_split))`` for training, the rest for testing: exactly ``keras.datasets.reuters``.
- ``split="modapte"``: the ModApte split, ``LEWISSPLIT="TRAIN"`` / ``"TEST"`` with
  ``TOPICS="YES"`` (wires marked NOT-USED are left out), in NEWID order.

>>> corpus = load("~/corpora")
>>> corpus.num_classes, len(corpus.train) + len(corpus.test)
(46, 11228)
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_tui.data import catalog, readers, store
from rnn_tui.data.catalog import REUTERS_LABELS
from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import DataError, UserError

NAME = "reuters"
SPLITS = ("keras", "modapte")
SGML_FILES = tuple(f"reut2-{number:03d}.sgm" for number in range(22))
LABEL_IDS = {name: index for index, name in enumerate(REUTERS_LABELS)}

_SGML_NAME = re.compile(r"(?:^|/)(reut2-\d{3}\.sgm)$")
_DOC = re.compile(r"<REUTERS\b(?P<attrs>[^>]*)>(?P<content>.*?)</REUTERS>", re.S)
_OPEN = re.compile(r"<REUTERS\b")
_ATTR = re.compile(r'([A-Z]+)="([^"]*)"')
_TOPICS = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.S)
_D = re.compile(r"<D>(.*?)</D>", re.S)
_TEXT = re.compile(r"<TEXT\b[^>]*>(.*?)</TEXT>", re.S)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Newswire:
    """One ``<REUTERS>`` element."""

    newid: int
    lewis_split: str
    has_topics: str  # the TOPICS attribute: YES, NO or BYPASS
    topics: list[str]
    title: str
    body: str


def load(
    data_home: Path | str | None = None,
    *,
    split: str = "keras",
    form: str = "auto",
    seed: int = 113,
    test_split: float = 0.2,
    title: bool = True,
    index_from: int = 3,
    start_char: int | None = 1,
    oov_char: int | None = 2,
) -> Corpus:
    """Load the Reuters 46-topic task.

    Args:
        split: "keras" (shuffled with ``seed``, ``test_split`` held out) or "modapte".
        form: "auto", "sgml" or "npz" (Keras' form; only with ``split="keras"``).
        title: put the title before the body (SGML form).
        index_from, start_char, oov_char: how reuters.npz ids are read, as in Keras.

    >>> load(split="modapte").label_names[:3]
    ['cocoa', 'grain', 'veg-oil']
    """
    if split not in SPLITS:
        raise UserError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if not 0.0 < test_split < 1.0:
        raise UserError(f"test_split must be between 0 and 1, not {test_split}")
    if split == "modapte":
        if form == "npz":
            raise UserError("the ModApte split needs the SGML files (Keras' npz has no split)")
        form = "sgml"
    presence = store.require(NAME, data_home, form)
    info = catalog.get(NAME)
    if presence.form.kind == "npz":
        texts, labels, notes = read_npz(
            *presence.paths, index_from=index_from, start_char=start_char, oov_char=oov_char
        )
        train, test = keras_split(texts, labels, seed, test_split)
        notes.append(_keras_split_note(seed, test_split))
    else:
        wires = read_sgml(presence.paths)
        train, test, notes = _sgml_splits(wires, split, seed, test_split, title)
    return Corpus(
        name=NAME,
        task=info.task,
        label_names=list(REUTERS_LABELS),
        language=info.language,
        train=train,
        test=test,
        source=info.source(),
        notes=notes,
        form=presence.form.name,
    )


# ---------------------------------------------------------------------------- SGML
def read_sgml(paths: list[Path]) -> list[Newswire]:
    """All newswires of the 22 SGML files, given as the files or the .tar.gz holding them."""
    contents: dict[str, tuple[str, str]] = {}  # file name -> (where, text)
    for path in paths:
        if path.name.endswith((".tar.gz", ".tgz", ".tar")):
            for member, data in readers.iter_tar_members(
                path, lambda n: _SGML_NAME.search(n) is not None
            ):
                name = _SGML_NAME.search(member).group(1)
                contents[name] = (f"{path}/{member}", data.decode("latin-1"))
        elif _SGML_NAME.search(path.name):
            contents[path.name] = (str(path), readers.read_bytes(path).decode("latin-1"))
    missing = [name for name in SGML_FILES if name not in contents]
    if missing:
        where = paths[0] if len(paths) == 1 else paths[0].parent
        shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise DataError(
            f"incomplete Reuters-21578: missing {shown} (expected {SGML_FILES[0]} to "
            f"{SGML_FILES[-1]})",
            where,
        )
    wires: list[Newswire] = []
    for name in SGML_FILES:
        where, text = contents[name]
        wires.extend(parse_sgml(text, where))
    wires.sort(key=lambda wire: wire.newid)
    return wires


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def parse_sgml(text: str, where: Path | str) -> list[Newswire]:
    """The ``<REUTERS>`` elements of one reut2-NNN.sgm file's text."""
    wires = []
    matched = set()
    for match in _DOC.finditer(text):
        matched.add(match.start())
        wires.append(_parse_wire(match, text, where))
    for opening in _OPEN.finditer(text):
        if opening.start() not in matched:
            line = _line_of(text, opening.start())
            raise DataError("<REUTERS> without its closing </REUTERS>", where, line)
    return wires


def _parse_wire(match: re.Match[str], text: str, where: Path | str) -> Newswire:
    attributes = dict(_ATTR.findall(match["attrs"]))
    for required in ("NEWID", "LEWISSPLIT"):
        if required not in attributes:
            line = _line_of(text, match.start())
            raise DataError(f"<REUTERS> without the {required} attribute", where, line)
    try:
        newid = int(attributes["NEWID"])
    except ValueError:
        line = _line_of(text, match.start())
        raise DataError(f"NEWID is not a number: {attributes['NEWID']!r}", where, line) from None
    content = match["content"]
    topics_match = _TOPICS.search(content)
    topics = [_clean(d) for d in _D.findall(topics_match.group(1))] if topics_match else []
    text_match = _TEXT.search(content)
    title = body = ""
    if text_match:
        inner = text_match.group(1)
        title_match, body_match = _TITLE.search(inner), _BODY.search(inner)
        title = _clean(title_match.group(1)) if title_match else ""
        if body_match:
            body = _clean(body_match.group(1))
        elif not title_match:  # TYPE="UNPROC": untagged text
            body = _clean(_TAG.sub(" ", inner))
        body = _without_sign_off(body)
    return Newswire(
        newid=newid,
        lewis_split=attributes["LEWISSPLIT"],
        has_topics=attributes.get("TOPICS", "YES"),
        topics=topics,
        title=title,
        body=body,
    )


def _clean(fragment: str) -> str:
    fragment = _CONTROL.sub(" ", html.unescape(fragment))
    return " ".join(fragment.split())


def _without_sign_off(body: str) -> str:
    """Drop the closing "Reuter" (or "REUTER") that ends almost every body."""
    if body[-6:].lower() == "reuter" and (len(body) == 6 or not body[-7].isalnum()):
        return body[:-6].rstrip()
    return body


def label_of(wire: Newswire) -> int | None:
    """The wire's class id: its first topic's index among the 46, or None."""
    if not wire.topics:
        return None
    return LABEL_IDS.get(wire.topics[0])


def _text_of(wire: Newswire, title: bool) -> str:
    parts = [wire.title, wire.body] if title else [wire.body]
    return "\n".join(part for part in parts if part)


def _sgml_splits(
    wires: list[Newswire], split: str, seed: int, test_split: float, title: bool
) -> tuple[Split, Split, list[str]]:
    labelled = [(wire, label_of(wire)) for wire in wires]
    labelled = [(wire, label) for wire, label in labelled if label is not None]
    notes = [
        f"{len(labelled):,} of {len(wires):,} newswires have a first topic among the 46 "
        "Keras topics; the others are left out",
        "text: " + ("title + body" if title else "body")
        + "; entities decoded, whitespace collapsed, the closing 'Reuter' removed",
    ]
    with_text = [(wire, label) for wire, label in labelled if _text_of(wire, title)]
    if len(with_text) < len(labelled):
        notes.append(f"{len(labelled) - len(with_text):,} newswires without any text dropped")
    if split == "keras":
        texts = [_text_of(wire, title) for wire, _ in with_text]
        labels = np.array([label for _, label in with_text], dtype=np.int64)
        train, test = keras_split(texts, labels, seed, test_split)
        notes.append(_keras_split_note(seed, test_split))
        return train, test, notes
    parts = []
    for lewis in ("TRAIN", "TEST"):
        chosen = [
            (wire, label) for wire, label in with_text
            if wire.lewis_split == lewis and wire.has_topics == "YES"
        ]
        parts.append(
            Split(
                np.array([label for _, label in chosen], dtype=np.int64),
                texts=[_text_of(wire, title) for wire, _ in chosen],
            )
        )
    notes.append(
        'ModApte split: LEWISSPLIT="TRAIN"/"TEST" with TOPICS="YES", in NEWID order '
        f"({len(parts[0]):,} / {len(parts[1]):,})"
    )
    return parts[0], parts[1], notes


def keras_split(
    texts: list[str], labels: np.ndarray, seed: int, test_split: float
) -> tuple[Split, Split]:
    """Shuffle and cut exactly as ``keras.datasets.reuters.load_data`` does."""
    order = readers.keras_shuffled_indices(len(texts), np.random.RandomState(seed))
    cut = int(len(texts) * (1 - test_split))
    shuffled_texts = [texts[i] for i in order]
    shuffled_labels = np.asarray(labels)[order]
    return (
        Split(shuffled_labels[:cut], texts=shuffled_texts[:cut]),
        Split(shuffled_labels[cut:], texts=shuffled_texts[cut:]),
    )


def _keras_split_note(seed: int, test_split: float) -> str:
    return (
        f"Keras split: np.arange(n) shuffled by RandomState({seed}).shuffle, the first "
        f"int(n * {1 - test_split:g}) for training"
    )


# ---------------------------------------------------------------------------- Keras npz
def read_npz(
    npz_path: Path,
    index_path: Path,
    *,
    index_from: int = 3,
    start_char: int | None = 1,
    oov_char: int | None = 2,
) -> tuple[list[str], np.ndarray, list[str]]:
    """Keras' reuters.npz as texts and labels, in file order (unsplit)."""
    sequences, labels = _read_npz_arrays(npz_path)
    word_index = readers.load_word_index(index_path)
    texts, unknown = readers.decode_keras_sequences(
        sequences, word_index, index_from=index_from, start_char=start_char, oov_char=oov_char
    )
    notes = [
        f"decoded Keras word ids to words with {index_path.name} "
        f"(index_from={index_from}, start_char={start_char}, oov_char={oov_char})"
    ]
    if unknown:
        notes.append(f"{unknown:,} ids without a word in the index were left out")
    return texts, labels, notes


def _read_npz_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    arrays = readers.load_npz(path, ("x", "y"))
    readers.check_sequences(arrays["x"], path, "x")
    labels = readers.check_labels(arrays["y"], path, "y", len(REUTERS_LABELS), len(arrays["x"]))
    return arrays["x"], labels


# ---------------------------------------------------------------------------- import / check
def check(path: Path, target: str) -> None:
    """Raise DataError unless ``path`` is a valid file for data-home path ``target``."""
    name = Path(target).name
    if name.endswith((".tar.gz", ".tgz")):
        _check_wires(read_sgml([path]), path)
    elif name.endswith(".npz"):
        _read_npz_arrays(path)
    elif name.endswith(".json"):
        readers.load_word_index(path)
    elif _SGML_NAME.search(name):
        parse_sgml(readers.read_bytes(path).decode("latin-1"), path)


def _check_wires(wires: list[Newswire], source: Path) -> None:
    if not any(label_of(wire) is not None for wire in wires):
        raise DataError("no newswire has a topic among the 46 Keras topics", source)


def import_plan(source: Path) -> list[tuple[Path, str]]:
    """What to copy where for ``data import reuters SOURCE``, after checking its format."""
    if source.is_dir():
        files = [source / name for name in SGML_FILES if (source / name).is_file()]
        _check_wires(read_sgml(files or [source / SGML_FILES[0]]), source)
        return [(path, f"reuters21578/{path.name}") for path in files]
    name = source.name
    if name.endswith((".tar.gz", ".tgz")):
        _check_wires(read_sgml([source]), source)
        return [(source, "reuters21578/reuters21578.tar.gz")]
    if name.endswith(".npz"):
        _read_npz_arrays(source)
        return [(source, "reuters/reuters.npz")]
    if name.endswith(".json"):
        readers.load_word_index(source)
        return [(source, "reuters/reuters_word_index.json")]
    raise DataError(
        "not a Reuters file: expected reuters21578.tar.gz, a folder with reut2-000.sgm ... "
        "reut2-021.sgm, reuters.npz or reuters_word_index.json",
        source,
    )
