"""The smaller items of round two: what safe mode refused is named for what it is; archives
are size-checked before anything is extracted; runtime.npz must match its card; names
reserved on Windows and non-ASCII digits are refused; folder corpora stay in their folder.
"""

from __future__ import annotations

import pytest

from rnn_tui.registry import Registry
from train_support import run_cli


# ---------------------------------------------------------------------------- safe mode
@pytest.fixture(scope="module")
def keras_module():
    from rnn_tui.backend import keras

    return keras()


def rewritten(keras, tmp_path, layer_class: str, change):
    """A small saved model whose ``layer_class`` layer's config is changed by ``change``."""
    import json
    import zipfile

    if layer_class == "Dense":
        inputs = keras.Input((4,))
        outputs = keras.layers.Dense(1, activation="sigmoid")(inputs)
    else:
        inputs = keras.Input((1,), dtype="string")
        outputs = keras.layers.StringLookup(vocabulary=["good", "bad"])(inputs)
    plain = tmp_path / "plain.keras"
    keras.Model(inputs, outputs).save(plain)
    with zipfile.ZipFile(plain) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == layer_class:
            change(layer["config"])
    crafted = tmp_path / "crafted.keras"
    with zipfile.ZipFile(crafted, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else data)
    return crafted


def test_a_python_lambda_in_a_config_is_not_called_a_lambda_layer(isolated_home, tmp_path,
                                                                   keras_module, capsys):
    lambda_activation = {"module": "builtins", "class_name": "__lambda__",
                         "config": {"value": ["AAAA", None, None]}, "registered_name": None}
    path = rewritten(keras_module, tmp_path, "Dense",
                     lambda config: config.update(activation=lambda_activation))
    code, _, err = run_cli(["models", "import", "act", str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "Lambda layer" not in err
    assert "refused a Python function stored in the model's config" in err and "--trust" in err


def test_a_model_reading_an_outside_file_is_refused_without_suggesting_trust(
        isolated_home, tmp_path, keras_module, capsys):
    crafted = rewritten(keras_module, tmp_path, "StringLookup",
                        lambda config: config.update(vocabulary="/etc/passwd"))
    code, _, err = run_cli(["models", "import", "outside", str(crafted)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "Lambda" not in err and "--trust" not in err
    assert "reads a file outside itself (/etc/passwd)" in err


# ---------------------------------------------------------------------------- archive bombs
class Zeros:
    """A file object of ``size`` zero bytes, never held in memory."""

    def __init__(self, size: int):
        self.left = size

    def read(self, count: int = -1) -> bytes:
        count = self.left if count < 0 else min(count, self.left)
        self.left -= count
        return bytes(count)


BOMB_BYTES = 256 << 20  # unpacks 256 MiB from about 250 kB


def bomb_archive(tmp_path, kind: str):
    """A valid-looking model archive whose model.keras is 256 MiB of zeros."""
    import io
    import json
    import tarfile
    import zipfile

    card = json.dumps({"format": "rnn-tui-card", "format_version": 1, "name": "bomb",
                       "version": 1, "created": "2026-01-01T00:00:00+00:00",
                       "task": "binary", "files": {"model.keras": "0" * 64}}).encode()
    path = tmp_path / f"bomb.{'tar.gz' if kind == 'tar' else 'zip'}"
    if kind == "tar":
        with tarfile.open(path, "w:gz", compresslevel=1) as archive:
            for name, size, data in (("bomb-1/card.json", len(card), io.BytesIO(card)),
                                     ("bomb-1/model.keras", BOMB_BYTES, Zeros(BOMB_BYTES))):
                info = tarfile.TarInfo(name)
                info.size = size
                archive.addfile(info, data)
    else:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED,
                             compresslevel=1) as archive:
            archive.writestr("bomb-1/card.json", card)
            with archive.open("bomb-1/model.keras", "w", force_zip64=True) as member:
                zeros = Zeros(BOMB_BYTES)
                while chunk := zeros.read(1 << 20):
                    member.write(chunk)
    return path


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_a_compression_bomb_is_refused_before_anything_is_extracted(isolated_home, tmp_path,
                                                                    monkeypatch, kind):
    from rnn_tui.errors import DataError
    from rnn_tui.registry import archive as archive_module

    path = bomb_archive(tmp_path, kind)
    assert path.stat().st_size < BOMB_BYTES / 200
    written = []
    real_copy = archive_module._copy_limited
    monkeypatch.setattr(archive_module, "_copy_limited",
                        lambda *args: written.append(args[1]) or real_copy(*args))
    registry = Registry(isolated_home / "models")
    with pytest.raises(DataError, match="times its own size .* compression bomb") as refused:
        registry.import_archive(path)
    assert "nothing was extracted" in str(refused.value)
    assert written == [] and registry.names() == []


def test_a_tar_header_declaring_a_terabyte_is_refused_at_its_header(isolated_home, tmp_path):
    """Only the header exists: refused by its declared size, not read as damaged."""
    import gzip
    import tarfile

    from rnn_tui.errors import DataError

    info = tarfile.TarInfo("big-1/model.keras")
    info.size = 1 << 40
    path = tmp_path / "big.tar.gz"
    path.write_bytes(gzip.compress(info.tobuf()))
    with pytest.raises(DataError, match="more than 8 GiB"):
        Registry(isolated_home / "models").import_archive(path)


def test_an_honest_archive_still_imports(isolated_home, tmp_path):
    import os

    source = tmp_path / "source"
    source.mkdir()
    (source / "model.keras").write_bytes(os.urandom(1 << 20))
    (source / "vocabulary.json").write_text('{"a": 1}' * 10_000)  # compresses well
    elsewhere = Registry(tmp_path / "elsewhere")
    elsewhere.publish("honest", source, card={"task": "binary", "labels": ["a", "b"]})
    for suffix in ("tar.gz", "zip"):
        archive = elsewhere.export("honest", tmp_path / f"honest.{suffix}")
        assert Registry(isolated_home / "models").import_archive(archive).ref.startswith(
            "honest:")


# ---------------------------------------------------------------------------- runtime.npz
def test_a_rewritten_runtime_is_refused(isolated_home, tiny_text_models, capsys):
    """A valid runtime.npz with other weights (its zip CRCs all correct) changed verdicts
    silently; now it must match the sha256 in the card, like the vocabulary."""
    import numpy as np

    from rnn_tui.errors import DataError
    from rnn_tui.infer import Predictor

    registry = Registry(isolated_home / "models")
    version = registry.publish("imdb-sentiment", tiny_text_models / "imdb-sentiment" / "1")
    runtime = version.path / "runtime.npz"
    with np.load(runtime, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    for key, value in arrays.items():
        if value.dtype.kind == "f":
            arrays[key] = -value  # every verdict flips
    runtime.chmod(0o644)
    with open(runtime, "wb") as handle:
        np.savez(handle, **arrays)
    with pytest.raises(DataError, match="does not match the sha256") as refused:
        Predictor.load("imdb-sentiment")
    assert refused.value.path == runtime
    code, out, err = run_cli(["predict", "-m", "imdb-sentiment", "a fine film"], capsys)
    assert code == 2 and out == "" and "runtime.npz: does not match the sha256" in err


# ---------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["con", "nul", "aux", "prn", "com1", "lpt9", "nul.txt",
                                  "con.tar.gz", "name.", "v1.2."])
def test_names_reserved_on_windows_are_refused(name):
    from rnn_tui.errors import UserError
    from rnn_tui.registry.names import check_alias, check_name, check_tag

    for check in (check_name, check_alias, check_tag):
        with pytest.raises(UserError, match="reserved on Windows|must not end with"):
            check(name)


@pytest.mark.parametrize("name", ["console", "nullable", "com10", "lpt", "auxiliary", "a.con"])
def test_names_like_reserved_ones_are_fine(name):
    from rnn_tui.registry.names import check_name

    assert check_name(name) == name


@pytest.mark.parametrize("ref", ["model:１", "model:²", "model:٣", "model:1１"])
def test_only_ascii_digits_make_a_version(isolated_home, ref, capsys):
    from rnn_tui.errors import UserError
    from rnn_tui.registry import ModelRef
    from rnn_tui.registry.names import check_version

    with pytest.raises(UserError, match="positive number"):
        ModelRef.parse(ref)
    with pytest.raises(UserError):
        check_version(ref.split(":")[1])
    code, _, err = run_cli(["models", "show", ref], capsys)
    assert code == 2 and "internal error" not in err


@pytest.mark.parametrize("args", [["train", "--dataset", "series", "--arch", "lstm:²"],
                                  ["train", "--dataset", "series", "--workers", "a:²,b:1",
                                   "--worker-index", "0"]])
def test_superscript_digits_in_numbers_are_usage_errors(isolated_home, capsys, args):
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "internal error" not in err, err


# ---------------------------------------------------------------------------- folder corpora
def class_folder_corpus(base):
    corpus = base / "reviews"
    for label, texts in (("pos", ["good film", "great fun", "loved it"]),
                         ("neg", ["bad film", "dull", "awful"])):
        (corpus / label).mkdir(parents=True)
        for index, text in enumerate(texts):
            (corpus / label / f"{index}.txt").write_text(text)
    secret = base / "secret.txt"
    secret.write_text("root:x:0:0 the password file")
    return corpus, secret


@pytest.mark.parametrize("link", ["file", "class", "inside"])
def test_a_folder_corpus_does_not_follow_links_out(tmp_path, capsys, link):
    from rnn_tui.data import load_corpus
    from rnn_tui.errors import DataError

    corpus, secret = class_folder_corpus(tmp_path)
    if link == "file":
        made = corpus / "pos" / "leak.txt"
        made.symlink_to(secret)
    elif link == "class":
        made = corpus / "etc"
        made.symlink_to(tmp_path)
    else:  # a link that stays inside the folder is fine
        (corpus / "pos" / "again.txt").symlink_to(corpus / "pos" / "0.txt")
        assert len(load_corpus(str(corpus)).train.labels) + len(
            load_corpus(str(corpus)).test.labels) == 7
        return
    with pytest.raises(DataError, match="a link out of the corpus folder") as refused:
        load_corpus(str(corpus))
    assert refused.value.path == made
    code, out, err = run_cli(["data", "show", str(corpus)], capsys)
    assert code == 2 and "password" not in out + err


def test_a_fifo_in_a_folder_corpus_is_refused_not_waited_on(tmp_path):
    import os

    from rnn_tui.data import load_corpus
    from rnn_tui.errors import DataError

    corpus, _ = class_folder_corpus(tmp_path)
    os.mkfifo(corpus / "neg" / "pipe.txt")
    with pytest.raises(DataError, match="not a regular file"):
        load_corpus(str(corpus))


def test_an_imdb_folder_does_not_follow_links_out(tmp_path, builders):
    from rnn_tui.data.imdb import read_folder
    from rnn_tui.errors import DataError

    folder = builders.imdb_folder(tmp_path / "data")
    secret = tmp_path / "secret.txt"
    secret.write_text("the password file")
    (folder / "train" / "pos" / "9_10.txt").symlink_to(secret)
    with pytest.raises(DataError, match="a link out of the corpus folder"):
        read_folder(folder)
