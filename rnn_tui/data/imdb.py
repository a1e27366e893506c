"""IMDB movie reviews (Maas et al. 2011), binary sentiment: negative 0, positive 1.

Forms, in the order they are looked for in the data home:

- ``imdb/aclImdb/`` the extracted official folder, ``{train,test}/{pos,neg}/<id>_<rating>.txt``;
- ``imdb/aclImdb_v1.tar.gz`` (the official archive) or ``imdb/aclImdb_labeled.tar.gz`` (the
  offline mirror's copy of its labeled part): read member by member straight from the
  compressed stream, never extracted to disk (about 1.5 s for 50,000 reviews);
- ``imdb/imdb.npz`` + ``imdb/imdb_word_index.json``: Keras' pre-tokenized form, decoded back
  to words with the word index (so every form yields texts). Keras' own ``load_data`` turns
  the single highest id into the OOV id (it keeps ids below the largest one); this keeps
  that word.

``form="raw"`` reads one of the first three, ``form="npz"`` the last, ``"auto"`` the first
found. ``train/unsup`` (unlabeled) and the bag-of-words files are ignored. ``<br />`` line
breaks become spaces; nothing else is changed.

Order: reviews are sorted (negative then positive, by review id) and then shuffled with
``numpy.random.RandomState(seed)``: train first, then test with the same generator, as
``keras.datasets.imdb.load_data`` does (seed 113). So labels are mixed, a tail taken for
validation holds both classes, and the order is the same on every machine. ``seed=None``
keeps the sorted order.

>>> corpus = load("~/corpora")
>>> len(corpus.train), len(corpus.test)
(24996, 24996)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from rnn_tui.data import catalog, readers, store
from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import DataError
from rnn_tui.text.cleaning import strip_html_breaks

NAME = "imdb"
SPLITS = ("train", "test")
LABEL_OF_FOLDER = {"neg": 0, "pos": 1}
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_FILE = re.compile(r"(\d+)_(\d+)\.txt$")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

# (split, label, review id, text)
Review = tuple[str, int, int, str]


def load(
    data_home: Path | str | None = None,
    *,
    form: str = "auto",
    seed: int | None = 113,
    index_from: int = 3,
    start_char: int | None = 1,
    oov_char: int | None = 2,
) -> Corpus:
    """Load IMDB from the data home.

    Args:
        form: "auto", "raw" (aclImdb folder or tarball) or "npz" (Keras' form).
        seed: the shuffle seed (see the module docstring); None keeps the sorted order.
        index_from, start_char, oov_char: how the ids of imdb.npz are read, with
            ``keras.datasets.imdb.load_data``'s meaning and defaults.

    >>> load(form="npz").train.texts[0][:30]
    """
    presence = store.require(NAME, data_home, form)
    info = catalog.get(NAME)
    if presence.form.kind == "npz":
        npz_path, index_path = presence.paths
        train, test, notes = read_npz(
            npz_path, index_path, seed=seed, index_from=index_from,
            start_char=start_char, oov_char=oov_char,
        )
        source = npz_path
    else:
        source = presence.paths[0]
        if source.is_dir():  # the folder form requires aclImdb/train and aclImdb/test
            source = source.parent
        reviews = read_folder(source) if source.is_dir() else read_tarball(source)
        train, test = _to_splits(reviews, source, seed)
        notes = [
            f"read {len(train):,} train and {len(test):,} test reviews from {source.name}",
            "'<br />' line breaks replaced by spaces",
        ]
    notes.append(
        f"order: shuffled with numpy RandomState({seed}), as keras.datasets.imdb does"
        if seed is not None
        else "order: negative then positive, by review id"
    )
    return Corpus(
        name=NAME,
        task=info.task,
        label_names=list(info.label_names),
        language=info.language,
        train=train,
        test=test,
        source=info.source(),
        notes=notes,
        form=presence.form.name,
    )


# ---------------------------------------------------------------------------- raw forms
def _review_text(data: bytes, where: str) -> str:
    return strip_html_breaks(readers.decode_utf8(data, where))


def read_tarball(archive: Path) -> list[Review]:
    """The labeled reviews of an aclImdb .tar.gz, read without extracting it."""
    reviews: list[Review] = []
    for name, data in readers.iter_tar_members(archive, lambda n: _MEMBER.search(n) is not None):
        split, folder, review_id, _ = _MEMBER.search(name).groups()
        text = _review_text(data, f"{archive}/{name}")
        reviews.append((split, LABEL_OF_FOLDER[folder], int(review_id), text))
    _check_complete(reviews, archive)
    return reviews


def read_folder(folder: Path) -> list[Review]:
    """The labeled reviews of an extracted aclImdb folder (``train/pos/*.txt`` ...)."""
    reviews: list[Review] = []
    for split in SPLITS:
        for folder_name, label in LABEL_OF_FOLDER.items():
            directory = folder / split / folder_name
            if not directory.is_dir():
                continue
            readers.check_inside(directory, folder)
            try:
                entries = list(os.scandir(directory))
            except OSError as error:
                raise DataError(f"cannot list: {error.strerror or error}", directory) from None
            for entry in entries:
                match = _FILE.fullmatch(entry.name)
                if not match or not entry.is_file():
                    continue
                path = readers.check_inside(Path(entry.path), folder)
                text = _review_text(readers.read_bytes(path), str(path))
                reviews.append((split, label, int(match.group(1)), text))
    _check_complete(reviews, folder)
    return reviews


def _check_complete(reviews: list[Review], source: Path) -> None:
    present = {(split, label) for split, label, _, _ in reviews}
    for split in SPLITS:
        for folder_name, label in LABEL_OF_FOLDER.items():
            if (split, label) not in present:
                raise DataError(
                    f"no reviews under aclImdb/{split}/{folder_name}/: not the IMDB "
                    "aclImdb layout ({train,test}/{pos,neg}/<id>_<rating>.txt)",
                    source,
                )


def _to_splits(reviews: list[Review], source: Path, seed: int | None) -> tuple[Split, Split]:
    rng = np.random.RandomState(seed) if seed is not None else None
    splits = []
    for split in SPLITS:
        rows = sorted((r for r in reviews if r[0] == split), key=lambda r: (r[1], r[2]))
        if rng is not None:
            rows = [rows[i] for i in readers.keras_shuffled_indices(len(rows), rng)]
        labels = np.array([r[1] for r in rows], dtype=np.int64)
        splits.append(Split(labels, texts=[r[3] for r in rows]))
    return splits[0], splits[1]


# ---------------------------------------------------------------------------- Keras npz
def read_npz(
    npz_path: Path,
    index_path: Path,
    *,
    seed: int | None = 113,
    index_from: int = 3,
    start_char: int | None = 1,
    oov_char: int | None = 2,
) -> tuple[Split, Split, list[str]]:
    """Keras' imdb.npz as texts, in the order ``keras.datasets.imdb.load_data`` gives."""
    arrays = _read_npz_arrays(npz_path)
    word_index = readers.load_word_index(index_path)
    rng = np.random.RandomState(seed) if seed is not None else None
    splits = []
    unknown_total = 0
    for split in SPLITS:
        sequences, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if rng is not None:
            order = readers.keras_shuffled_indices(len(sequences), rng)
            sequences, labels = sequences[order], labels[order]
        texts, unknown = readers.decode_keras_sequences(
            sequences, word_index, index_from=index_from, start_char=start_char,
            oov_char=oov_char,
        )
        unknown_total += unknown
        splits.append(Split(labels, texts=texts))
    notes = [
        f"decoded Keras word ids to words with {index_path.name} "
        f"(index_from={index_from}, start_char={start_char}, oov_char={oov_char})",
        "Keras' tokenization: lowercase, punctuation removed",
    ]
    if unknown_total:
        notes.append(f"{unknown_total:,} ids without a word in the index were left out")
    return splits[0], splits[1], notes


def _read_npz_arrays(path: Path) -> dict[str, np.ndarray]:
    arrays = readers.load_npz(path, NPZ_KEYS)
    for split in SPLITS:
        sequences = arrays[f"x_{split}"]
        readers.check_sequences(sequences, path, f"x_{split}")
        arrays[f"y_{split}"] = readers.check_labels(
            arrays[f"y_{split}"], path, f"y_{split}", 2, len(sequences)
        )
    return arrays


# ---------------------------------------------------------------------------- import / check
TARBALL_NAMES = ("aclImdb_v1.tar.gz", "aclImdb_labeled.tar.gz")


def check(path: Path, target: str) -> None:
    """Raise DataError unless ``path`` is a valid file for data-home path ``target``."""
    name = Path(target).name
    if name.endswith((".tar.gz", ".tgz")):
        read_tarball(path)
    elif name.endswith(".npz"):
        _read_npz_arrays(path)
    elif name.endswith(".json"):
        readers.load_word_index(path)
    elif Path(path).is_dir():
        read_folder(path)


def import_plan(source: Path) -> list[tuple[Path, str]]:
    """What to copy where for ``data import imdb SOURCE``, after checking its format."""
    if source.is_dir():
        folder = source / "aclImdb" if (source / "aclImdb").is_dir() else source
        read_folder(folder)
        return [(folder, "imdb/aclImdb")]
    name = source.name
    if name.endswith((".tar.gz", ".tgz")):
        read_tarball(source)
        target = name if name in TARBALL_NAMES else TARBALL_NAMES[0]
        return [(source, f"imdb/{target}")]
    if name.endswith(".npz"):
        _read_npz_arrays(source)
        return [(source, "imdb/imdb.npz")]
    if name.endswith(".json"):
        readers.load_word_index(source)
        return [(source, "imdb/imdb_word_index.json")]
    raise DataError(
        "not an IMDB file: expected aclImdb_v1.tar.gz, an extracted aclImdb folder, "
        "imdb.npz or imdb_word_index.json",
        source,
    )
