"""NSMC, the Naver Sentiment Movie Corpus: Korean movie reviews, negative 0 / positive 1.

Files: ``nsmc/ratings_train.txt`` and ``nsmc/ratings_test.txt``, UTF-8, a header line
``id<TAB>document<TAB>label``, then one review a line: three tab-separated fields, **no
quoting** (reviews contain quote characters, so a CSV reader would merge lines: this is split
on tabs only). Blank lines are skipped; any other line without exactly three fields, or with a
label other than 0 or 1, is a DataError naming the file and line.

Empty reviews (an empty ``document``: 20 in the corpus, as in the original) are dropped by
default, with a note saying how many from each split: an empty text carries no signal and
only teaches the model its bias. ``keep_empty=True`` keeps them. The file order (already
shuffled by the publisher) is kept.

>>> corpus = load("~/corpora")
>>> len(corpus.train), len(corpus.test)   # 150,000 / 50,000 lines, less the empty reviews
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnn_tui.data import catalog, readers, store
from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import DataError

NAME = "nsmc"
HEADER = ["id", "document", "label"]
FILES = {"train": "ratings_train.txt", "test": "ratings_test.txt"}


def load(
    data_home: Path | str | None = None, *, form: str = "auto", keep_empty: bool = False
) -> Corpus:
    """Load NSMC from the data home (``form`` is "auto" or "tsv": there is one form).

    >>> load(keep_empty=True).train.labels.mean()   # balanced
    """
    presence = store.require(NAME, data_home, form)
    info = catalog.get(NAME)
    splits = {}
    notes = []
    dropped = {}
    for split, path in zip(FILES, presence.paths):
        texts, labels = read_ratings(path)
        if not keep_empty:
            kept = [i for i, text in enumerate(texts) if text.strip()]
            dropped[split] = len(texts) - len(kept)
            texts, labels = [texts[i] for i in kept], labels[kept]
        splits[split] = Split(labels, texts=texts)
    if not keep_empty:
        total = sum(dropped.values())
        notes.append(
            f"{total} empty reviews dropped (train {dropped['train']}, test {dropped['test']}); "
            "keep_empty=True keeps them"
        )
    return Corpus(
        name=NAME,
        task=info.task,
        label_names=list(info.label_names),
        language=info.language,
        train=splits["train"],
        test=splits["test"],
        source=info.source(),
        notes=notes,
        form=presence.form.name,
    )


def read_ratings(path: Path) -> tuple[list[str], np.ndarray]:
    """The reviews and labels of one ratings_*.txt file (every review, empty ones too)."""
    lines = readers.split_lines(readers.read_utf8(path))
    if not lines:
        raise DataError("empty file: expected the header id<TAB>document<TAB>label", path)
    if lines[0].split("\t") != HEADER:
        raise DataError(
            f"expected the header 'id<TAB>document<TAB>label', found {lines[0][:60]!r}", path, 1
        )
    texts: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 3:
            if not line.strip():
                continue
            raise DataError(
                f"expected 3 tab-separated fields (id, document, label), found {len(fields)}",
                path,
                number,
            )
        label = fields[2].strip()
        if label not in ("0", "1"):
            raise DataError(f"label must be 0 or 1, not {fields[2]!r}", path, number)
        texts.append(fields[1])
        labels.append(int(label))
    return texts, np.array(labels, dtype=np.int64)


def check(path: Path, target: str) -> None:
    """Raise DataError unless ``path`` is a ratings file."""
    read_ratings(path)


def import_plan(source: Path) -> list[tuple[Path, str]]:
    """``data import nsmc`` takes ratings_train.txt, ratings_test.txt or a folder with both."""
    if source.is_dir():
        files = [source / name for name in FILES.values() if (source / name).is_file()]
        if not files:
            raise DataError("no ratings_train.txt or ratings_test.txt in this folder", source)
    elif source.name in FILES.values():
        files = [source]
    else:
        raise DataError(
            "NSMC files are named ratings_train.txt and ratings_test.txt: rename the file "
            "to say which split it is, or import the folder that holds both",
            source,
        )
    for path in files:
        read_ratings(path)
    return [(path, f"nsmc/{path.name}") for path in files]
