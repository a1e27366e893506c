"""Low-level reading shared by the corpus loaders: bytes, UTF-8 with line numbers, archives,
Keras ``.npz`` files, deterministic shuffling.

Everything that can go wrong with a file becomes a :class:`~rnn_tui.errors.DataError` naming
the file (and the line, where there is one), never a traceback.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from rnn_tui.errors import DataError
from rnn_tui.jsontext import parse_json


def read_bytes(path: Path) -> bytes:
    """The content of ``path``; a missing or unreadable file is a DataError."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", path) from None
    except IsADirectoryError:
        raise DataError("is a folder, expected a file", path) from None
    except PermissionError:
        raise DataError("permission denied", path) from None
    except OSError as error:
        raise DataError(f"cannot read: {error.strerror or error}", path) from None


def check_inside(path: Path, root: Path) -> Path:
    """``path`` if it stays inside ``root`` once links are resolved; a DataError otherwise.

    Folder corpora read every file under their folder; a link out of it (``pos/x.txt ->
    /etc/shadow``, ``train -> /``) would make a corpus of files the user never meant to
    give, and show them in ``data show``. Links within the folder are fine.
    """
    try:
        target = Path(path).resolve()
        inside = target.is_relative_to(Path(root).resolve())
    except (OSError, RuntimeError) as error:  # a link loop
        raise DataError(f"cannot follow this link: {error}", path) from None
    if not inside:
        raise DataError(f"a link out of the corpus folder {root} (to {target}); refused",
                        path)
    return Path(path)


def decode_utf8(data: bytes, path: Path | str) -> str:
    """Decode UTF-8 (a leading byte-order mark is dropped); bad bytes name their line.

    >>> decode_utf8("한국어".encode(), "x.txt")
    '한국어'
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise DataError(
            f"not valid UTF-8: byte 0x{data[error.start]:02x} at column {column} "
            "(save the file as UTF-8)",
            path,
            line,
        ) from None
    return text.removeprefix("\ufeff")


def read_utf8(path: Path) -> str:
    return decode_utf8(read_bytes(path), path)


def split_lines(text: str) -> list[str]:
    """Lines without their ending (``\\n`` or ``\\r\\n``); no phantom line after a final newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


# ---------------------------------------------------------------------------- tar archives
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


def iter_tar_members(
    archive: Path, wanted: Callable[[str], bool]
) -> Iterator[tuple[str, bytes]]:
    """Stream ``(member name, bytes)`` for the regular files of a .tar(.gz) that ``wanted``.

    Members are read in archive order straight from the compressed stream: nothing is
    extracted to disk and only one member is in memory at a time. Names lose a leading "./".
    """
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if not member.isfile() or not wanted(name):
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                yield name, handle.read()
    except FileNotFoundError:
        raise DataError("file not found", archive) from None
    except PermissionError:
        raise DataError("permission denied", archive) from None
    except ARCHIVE_ERRORS as error:
        raise DataError(f"not a readable .tar.gz archive ({error})", archive) from None


# ---------------------------------------------------------------------------- Keras .npz
# The Keras imdb/reuters .npz files hold ragged sequences as object arrays, i.e. pickles.
# np.load(allow_pickle=True) would run any code a tampered file carries, so (as Keras itself
# does) only the three globals that rebuild NumPy arrays may be unpickled.
_ALLOWED_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_npy(stream: io.BytesIO) -> np.ndarray:
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError:
        stream.seek(0)
        version = np.lib.format.read_magic(stream)
        if version[0] == 1:
            np.lib.format.read_array_header_1_0(stream)
        elif version[0] in (2, 3):
            np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}") from None
        return _ArrayOnlyUnpickler(stream).load()


def load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Load the arrays ``keys`` from a .npz without running arbitrary pickled code.

    Missing keys, a damaged zip or a pickle that is not a plain array are DataErrors.
    """
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            for key in keys:
                if f"{key}.npy" not in members:
                    found = ", ".join(sorted(m.removesuffix(".npy") for m in members)) or "none"
                    raise DataError(f"no array {key!r} in the .npz (found: {found})", path)
                with archive.open(f"{key}.npy") as raw:
                    arrays[key] = _read_npy(io.BytesIO(raw.read()))
    except FileNotFoundError:
        raise DataError("file not found", path) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise DataError(f"not a readable .npz file ({error})", path) from None
    except (pickle.UnpicklingError, ValueError, TypeError, AttributeError) as error:
        raise DataError(f"not a Keras dataset .npz ({error})", path) from None
    except OSError as error:
        raise DataError(f"cannot read: {error}", path) from None
    return arrays


def load_word_index(path: Path) -> dict[str, int]:
    """A Keras ``*_word_index.json``: a JSON object word -> rank (1 = most frequent)."""
    text = read_utf8(path)
    data = parse_json(text, path)
    if not isinstance(data, dict) or not all(
        isinstance(word, str) and isinstance(rank, int) and not isinstance(rank, bool)
        for word, rank in data.items()
    ):
        raise DataError("expected a JSON object mapping words to integer ranks", path)
    return data


# ---------------------------------------------------------------------------- ordering
def keras_shuffled_indices(n: int, rng: np.random.RandomState) -> np.ndarray:
    """``np.arange(n)`` shuffled in place by ``rng``: what keras.datasets does with seed 113."""
    indices = np.arange(n)
    rng.shuffle(indices)
    return indices


def decode_keras_sequences(
    sequences: np.ndarray,
    word_index: dict[str, int],
    *,
    index_from: int = 3,
    start_char: int | None = 1,
    oov_char: int | None = 2,
) -> tuple[list[str], int]:
    """Word ids of a Keras dataset .npz back to texts, the way ``keras.datasets`` reads them.

    Keras shifts every stored id by ``index_from`` (reserving 0 padding, ``start_char`` and
    ``oov_char``) and decodes with ``{rank + index_from: word}``; this does the same, so the
    text is exactly what Keras' own decoding recipe prints. Markers and ids without a word are
    left out; their number is returned with the texts.

    >>> decode_keras_sequences(np.array([[1, 2]], dtype=object), {"the": 1, "film": 2})
    (['the film'], 0)
    """
    inverted = {rank + index_from: word for word, rank in word_index.items()}
    markers = {start_char, oov_char} - {None}
    texts: list[str] = []
    unknown = 0
    for sequence in sequences:
        words = []
        for stored in sequence:
            shifted = int(stored) + index_from
            word = inverted.get(shifted) if shifted not in markers else None
            if word is None:
                unknown += 1
            else:
                words.append(word)
        texts.append(" ".join(words))
    return texts, unknown


def check_sequences(sequences: np.ndarray, path: Path, key: str) -> None:
    """A Keras .npz array must hold sequences of non-negative integer ids."""
    if sequences.ndim != 1:
        raise DataError(
            f"{key!r} should be a 1-D array of sequences, not shape {sequences.shape}", path
        )
    for row, sequence in enumerate(sequences):
        try:
            ids = np.asarray(sequence)
        except (ValueError, TypeError):
            raise DataError(f"{key}[{row}] is not a sequence of word ids", path) from None
        if ids.ndim != 1 or (ids.size and (ids.dtype.kind not in "iu" or ids.min() < 0)):
            raise DataError(f"{key}[{row}] is not a sequence of non-negative integer ids", path)


def check_labels(
    labels: np.ndarray, path: Path, key: str, num_classes: int, expected: int
) -> np.ndarray:
    """Integer class ids in ``[0, num_classes)``, one per sequence."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != expected:
        raise DataError(f"{key!r} should hold {expected} labels, has shape {labels.shape}", path)
    out_of_range = labels.size and (
        labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= num_classes
    )
    if out_of_range:
        raise DataError(f"{key!r} holds labels outside 0..{num_classes - 1}", path)
    return labels.astype(np.int64)
