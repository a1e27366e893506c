"""Export and import of single-version archives, and the archives import must refuse."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import zipfile

import pytest

from rnn_tui.errors import DataError, UserError
from rnn_tui.registry import Registry
from rnn_tui.registry.card import sha256_file


@pytest.fixture
def source(tmp_path):
    registry = Registry(tmp_path / "a")

    def build(folder):
        (folder / "model.keras").write_bytes(os.urandom(5000))
        (folder / "vocabulary.json").write_text('{"tokens": ["재미", "없다"]}', encoding="utf-8")
        (folder / "extra").mkdir()
        (folder / "extra" / "notes.txt").write_text("nested files travel too")
        return {"task": "binary", "labels": ["부정", "긍정"], "language": "ko",
                "metrics": {"test": {"accuracy": 0.84}}, "created": "2026-01-02T03:04:05+00:00"}

    registry.publish("nsmc", build)
    registry.publish("nsmc", build)
    return registry


@pytest.fixture
def target(tmp_path):
    return Registry(tmp_path / "b")


def nothing_left(registry):
    staging = registry.root / ".staging"
    return registry.names() == [] and (not staging.exists() or os.listdir(staging) == [])


@pytest.mark.parametrize("suffix", [".tar.gz", ".tgz", ".zip"])
def test_round_trip(source, target, tmp_path, suffix):
    version = source.resolve("nsmc:1")
    archive = source.export("nsmc:1", tmp_path / f"out{suffix}")
    assert archive == tmp_path / f"out{suffix}"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp
    imported = target.import_archive(archive)
    assert imported.ref == "nsmc:1"
    for name in version.card["files"]:
        assert imported.file(name).read_bytes() == version.file(name).read_bytes()
    card = imported.card
    assert card["labels"] == ["부정", "긍정"]
    assert card["created"] == "2026-01-02T03:04:05+00:00"
    assert card["files"] == version.card["files"]
    imported_section = dict(card["imported"])
    assert imported_section.pop("at") >= card["created"]  # the import's own time
    assert imported_section == {"archive": f"out{suffix}", "sha256": sha256_file(archive),
                                "name": "nsmc", "version": 1,
                                "created": "2026-01-02T03:04:05+00:00"}
    assert imported.aliases == ["best"]  # a first import is @best, as a first training is
    imported.verify()
    renamed = target.import_archive(archive, "nsmc-copy", aliases=["best"])
    assert renamed.ref == "nsmc-copy:1" and renamed.aliases == ["best"]
    again = target.import_archive(archive)
    assert again.ref == "nsmc:2" and again.aliases == []  # best stays on nsmc:1
    assert target.resolve("nsmc@best").version == 1


def test_export_into_a_folder_and_bad_names(source, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    assert source.export("nsmc", folder) == folder / "nsmc-2.tar.gz"
    with pytest.raises(UserError, match="must end in"):
        source.export("nsmc", tmp_path / "model.rar")


def test_a_damaged_version_is_not_exported(source, tmp_path):
    version = source.resolve("nsmc:2")
    path = version.path / "model.keras"
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(DataError, match="does not match the sha256"):
        source.export("nsmc:2", tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


def good_members(source):
    """(name, bytes) of a valid archive of nsmc:1, under a top folder."""
    version = source.resolve("nsmc:1")
    names = ["card.json", *version.card["files"]]
    return [(f"nsmc-1/{name}", (version.path / name).read_bytes()) for name in names]


def write_tar(path, members, extra=()):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in extra:
            archive.addfile(info)
    return path


def write_zip(path, members, symlink=None):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink[0])
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, symlink[1])
    return path


def link(name, kind, target):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_a_hand_made_valid_tar_imports(source, target, tmp_path):
    imported = target.import_archive(write_tar(tmp_path / "ok.tar.gz", good_members(source)))
    imported.verify()
    flat = [(name.split("/", 1)[1], data) for name, data in good_members(source)]
    assert target.import_archive(write_zip(tmp_path / "flat.zip", flat)).version == 2


@pytest.mark.parametrize(("case", "problem"), [
    ("symlink", "symbolic link"),
    ("hardlink", "hard link"),
    ("dotdot", "'..'"),
    ("absolute", "absolute"),
    ("extra", "not listed in the card"),
    ("missing", "missing"),
    ("tampered", "does not match the sha256"),
    ("no-card", "no card.json"),
    ("card-v2", "format_version 2 is not supported"),
    ("card-garbage", "not valid JSON"),
    ("duplicate", "appears twice"),
    ("zip-symlink", "symbolic link"),
    ("zip-dotdot", "'..'"),
    ("not-an-archive", "not a .tar.gz or .zip"),
])
def test_bad_archives_are_refused_and_leave_nothing(source, target, tmp_path, case, problem):
    members = good_members(source)
    card = json.loads(dict(members)["nsmc-1/card.json"])
    path = tmp_path / ("bad.zip" if case.startswith("zip") else "bad.tar.gz")
    if case == "symlink":
        write_tar(path, members, [link("nsmc-1/evil", tarfile.SYMTYPE, "/etc/passwd")])
    elif case == "hardlink":
        write_tar(path, members, [link("nsmc-1/evil", tarfile.LNKTYPE, "/etc/passwd")])
    elif case == "dotdot":
        write_tar(path, [*members, ("nsmc-1/../../escape.txt", b"x")])
    elif case == "absolute":
        write_tar(path, [*members, ("/tmp/escape.txt", b"x")])
    elif case == "extra":
        write_tar(path, [*members, ("nsmc-1/surprise.py", b"import os")])
    elif case == "missing":
        write_tar(path, [m for m in members if not m[0].endswith("vocabulary.json")])
    elif case == "tampered":
        write_tar(path, [(n, b"tampered" if n.endswith("model.keras") else d)
                         for n, d in members])
    elif case == "no-card":
        write_tar(path, [m for m in members if not m[0].endswith("card.json")])
    elif case in ("card-v2", "card-garbage"):
        text = json.dumps({**card, "format_version": 2}).encode() if case == "card-v2" \
            else b"{not json"
        write_tar(path, [(n, text if n.endswith("card.json") else d) for n, d in members])
    elif case == "duplicate":
        write_tar(path, [*members, members[1]])
    elif case == "zip-symlink":
        write_zip(path, members, symlink=("nsmc-1/evil", "/etc/passwd"))
    elif case == "zip-dotdot":
        write_zip(path, [*members, ("nsmc-1/../../escape.txt", b"x")])
    elif case == "not-an-archive":
        path.write_bytes(b"just some bytes, not gzip")
    with pytest.raises(DataError) as error:
        target.import_archive(path)
    assert problem in str(error.value)
    assert str(path) in str(error.value)
    assert nothing_left(target)
    assert not (tmp_path / "escape.txt").exists()
