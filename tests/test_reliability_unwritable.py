"""A registry that cannot be written (a read-only mount, no permission, an I/O error):
every change is one line naming the registry and the system's reason, exit code 1, and
nothing changes. An archive being imported is not blamed for the registry's failure.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reliability_support import cli, one_line_error, registry_snapshot
from rnn_tui.registry import Registry


def publish_small(root: Path, name: str = "small") -> None:
    source = root.parent / f"{name}-source"
    source.mkdir(exist_ok=True)
    (source / "model.keras").write_bytes(b"model bytes")
    Registry(root).publish(name, source, card={"task": "binary", "labels": ["a", "b"]})


@pytest.fixture
def read_only_home(tmp_path):
    """A home whose registry holds one model and then cannot be written: a tmpfs mounted
    read-only where the test runs as root and may mount, a folder without write
    permission for other users."""
    home = tmp_path / "home"
    models = home / "models"
    models.mkdir(parents=True)
    mounted = False
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "rnn-tui-test",
                               str(models)], capture_output=True)
        if done.returncode != 0:
            pytest.skip("running as root without permission to mount a read-only folder")
        mounted = True
    publish_small(models)
    archive = Registry(models).export("small", tmp_path / "small.tar.gz")
    try:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(models)], check=True)
        else:
            for folder, _, _ in os.walk(models):
                os.chmod(folder, 0o555)
        yield home, archive, ("Read-only file system" if mounted else "Permission denied")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(models)], check=False)
        else:
            for folder, _, _ in os.walk(models):
                os.chmod(folder, 0o755)


@pytest.mark.parametrize("args", [
    ["models", "alias", "small", "best", "1"],
    ["models", "tag", "small:1", "baseline"],
    ["models", "rm", "small:1", "--yes"],
    ["models", "import", "copy", "ARCHIVE"],
], ids=["alias", "tag", "rm", "import"])
def test_a_read_only_registry_is_named_with_the_reason(read_only_home, args):
    home, archive, reason = read_only_home
    before = registry_snapshot(home / "models")
    args = [str(archive) if arg == "ARCHIVE" else arg for arg in args]
    done = cli(args, home, timeout=60)
    assert done.returncode == 1, done.stderr
    line = one_line_error(done)
    assert f"cannot write to the model registry {home / 'models'}: {reason}" in line, line
    assert "internal error" not in line and "archive" not in line.split(":", 3)[-1]
    assert registry_snapshot(home / "models") == before


def test_an_io_error_while_importing_blames_the_registry(tmp_path, monkeypatch):
    """EIO on the registry's disk while an archive is unpacked: the registry is named,
    the archive is not called damaged, and no version appears."""
    from rnn_tui.errors import DataError, RnnTuiError

    elsewhere = tmp_path / "elsewhere"
    publish_small(elsewhere)
    archive = Registry(elsewhere).export("small", tmp_path / "small.tar.gz")
    root = tmp_path / "models"
    registry = Registry(root)
    real_open = open

    def failing_open(file, mode="r", *args, **kwargs):
        if "w" in str(mode) and str(file).startswith(str(root / ".staging")):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(RnnTuiError) as caught:
        registry.import_archive(archive)
    assert not isinstance(caught.value, DataError)
    assert str(caught.value).startswith(f"cannot write to the model registry {root}: "
                                        "Input/output error")
    monkeypatch.undo()
    assert registry.names() == []
    assert not any((root / ".staging").iterdir())
