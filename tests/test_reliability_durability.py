"""Durability on power loss: a version becomes visible by one rename, and everything it
holds must be on disk before that rename, and the rename itself after it (fsync the files,
rename, fsync the folder: as SQLite and MLflow's file store do).

The order of the real fsync and rename calls is recorded (os.fsync, os.rename, os.replace
wrapped; each fsync'd descriptor resolved to its path through /proc/self/fd) while real
versions are published and imported.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rnn_tui.registry import Registry

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="resolves descriptors through /proc (Linux)")


def record_calls(monkeypatch) -> list[tuple[str, ...]]:
    """("fsync", path) and ("rename", source, target) in the order they happen."""
    recorded: list[tuple[str, ...]] = []
    real_fsync, real_rename, real_replace = os.fsync, os.rename, os.replace

    def fsync(fd):
        recorded.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def rename(source, target, *args, **kwargs):
        real_rename(source, target, *args, **kwargs)
        recorded.append(("rename", os.fspath(source), os.fspath(target)))

    def replace(source, target, *args, **kwargs):
        real_replace(source, target, *args, **kwargs)
        recorded.append(("rename", os.fspath(source), os.fspath(target)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "replace", replace)
    return recorded


@pytest.fixture
def calls(monkeypatch) -> list[tuple[str, ...]]:
    return record_calls(monkeypatch)


def model_folder(base: Path) -> Path:
    source = base / "source"
    (source / "assets").mkdir(parents=True)
    (source / "model.keras").write_bytes(os.urandom(50_000))
    (source / "vocabulary.json").write_text('{"words": 1}')
    (source / "assets" / "extra.bin").write_bytes(b"x" * 1000)
    return source


def check_published_durably(calls: list[tuple[str, ...]], version_path: Path,
                            new_model: bool) -> None:
    root = version_path.parent.parent
    publish = next(i for i, call in enumerate(calls)
                   if call[0] == "rename" and call[2] == str(version_path))
    stage = Path(calls[publish][1])
    before: set[str] = set()
    for call in calls[:publish]:
        if call[0] == "fsync":
            before.add(call[1])
        elif call[1] in before:  # written and flushed under a temporary name, then renamed
            before.add(call[2])
    files = [p.relative_to(version_path) for p in version_path.rglob("*") if p.is_file()]
    assert files, version_path
    for relative in files:  # every file, the card included, was flushed before the rename
        assert str(stage / relative) in before, (relative, sorted(before))
    for folder in {stage, *(stage / r.parent for r in files)}:
        assert str(folder) in before, folder  # and the folders' entries
    after = [call[1] for call in calls[publish + 1:] if call[0] == "fsync"]
    assert str(version_path.parent) in after, "the rename itself was not flushed"
    if new_model:
        created = calls.index(("fsync", str(root)))
        assert created < publish


def test_publishing_flushes_every_file_then_renames_then_flushes_the_folder(tmp_path, calls):
    source = model_folder(tmp_path)
    registry = Registry(tmp_path / "models")
    first = registry.publish("durable", source, card={"task": "binary", "labels": ["a", "b"]})
    check_published_durably(calls, first.path, new_model=True)
    calls.clear()
    second = registry.publish("durable", source, card={"task": "binary", "labels": ["a", "b"]})
    check_published_durably(calls, second.path, new_model=False)


def test_importing_an_archive_flushes_the_extracted_files(tmp_path, monkeypatch):
    source = model_folder(tmp_path)
    elsewhere = Registry(tmp_path / "elsewhere")
    elsewhere.publish("durable", source, card={"task": "binary", "labels": ["a", "b"]})
    archive = elsewhere.export("durable", tmp_path / "durable.tar.gz")
    recorded = record_calls(monkeypatch)  # after the export: only the import's calls
    version = Registry(tmp_path / "models").import_archive(archive)
    check_published_durably(recorded, version.path, new_model=True)


def test_a_failed_fsync_of_a_file_is_not_ignored(tmp_path, monkeypatch):
    """EIO from fsync means the data may not be on disk: the publish fails, nothing shows."""
    import errno

    from rnn_tui.errors import RnnTuiError

    source = model_folder(tmp_path)
    registry = Registry(tmp_path / "models")
    real_fsync = os.fsync

    def failing_fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").endswith("model.keras"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(RnnTuiError, match="Input/output error"):
        registry.publish("durable", source, card={"task": "binary", "labels": ["a", "b"]})
    assert registry.versions("durable") == []
