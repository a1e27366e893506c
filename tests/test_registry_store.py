"""Publishing, resolving, aliases, tags, removal and listing in one registry folder."""

from __future__ import annotations

import json
import os
import re
import socket

import pytest

from rnn_tui.errors import DataError, NotFoundError, UserError
from rnn_tui.registry import (
    ModelRef,
    Registries,
    Registry,
    open_registries,
    read_card,
    sha256_file,
)


@pytest.fixture
def registry(tmp_path):
    return Registry(tmp_path / "models")


def builder(payload: bytes = b"weights", **card):
    """A build callback that writes two files and returns a card."""
    def build(folder):
        (folder / "model.keras").write_bytes(payload)
        (folder / "vocabulary.json").write_text('{"tokens": ["좋다"]}', encoding="utf-8")
        return {"task": "binary", "labels": ["negative", "positive"],
                "metrics": {"test": {"accuracy": 0.875}}, "dataset": {"name": "nsmc"}, **card}
    return build


def test_publish_stamps_the_card_and_resolves(registry):
    version = registry.publish("nsmc-gru", builder(), aliases=["best"], tags=["baseline"])
    assert (version.name, version.version, version.source) == ("nsmc-gru", 1, "user")
    assert version.path == registry.root / "nsmc-gru" / "1"
    card = version.card
    assert card["format"] == "rnn-tui-card" and card["format_version"] == 1
    assert card["name"] == "nsmc-gru" and card["version"] == 1
    assert card["files"] == {name: sha256_file(version.path / name)
                             for name in ("model.keras", "vocabulary.json")}
    assert card["packages"]["rnn_tui"]
    assert read_card(version.path) == card
    assert version.file("model.keras").read_bytes() == b"weights"
    assert version.aliases == ["best"] and version.tags == ["baseline"]
    version.verify()
    assert registry.resolve("nsmc-gru") == version
    assert registry.resolve("nsmc-gru@best") == version
    assert registry.resolve(ModelRef("nsmc-gru", version=1)) == version
    with pytest.raises(DataError, match="no file 'runtime.npz'"):
        version.file("runtime.npz")


def test_versions_count_up_and_latest_is_the_highest(registry):
    for expected in (1, 2, 3):
        assert registry.publish("m", builder(str(expected).encode())).version == expected
    assert registry.versions("m") == [1, 2, 3]
    assert registry.resolve("m").version == 3
    assert registry.resolve("m@latest").version == 3
    assert registry.resolve("m:2").file("model.keras").read_bytes() == b"2"


def test_the_staging_context_manager(registry):
    with registry.staging("ctx") as stage:
        (stage.path / "model.keras").write_bytes(b"x")
        version = stage.publish({"task": "regression"})
    assert version.ref == "ctx:1"
    assert not stage.path.exists()
    # Leaving without publishing throws the folder away and publishes nothing.
    with registry.staging("ctx") as stage:
        (stage.path / "model.keras").write_bytes(b"y")
    assert not stage.path.exists()
    assert registry.versions("ctx") == [1]


def test_publish_a_staged_folder(registry, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "model.keras").write_bytes(b"z")
    (folder / "card.json").write_text(json.dumps({"task": "multiclass",
                                                  "labels": ["a", "b", "c"]}))
    version = registry.publish("folder-model", folder)
    assert version.card["labels"] == ["a", "b", "c"]
    assert set(version.card["files"]) == {"model.keras"}
    assert (folder / "model.keras").exists()  # the source is copied, not consumed


def test_a_failing_build_leaves_nothing(registry):
    def build(folder):
        (folder / "model.keras").write_bytes(b"half")
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        registry.publish("broken", build)
    assert registry.versions("broken") == []
    assert list((registry.root / ".staging").iterdir()) == []


@pytest.mark.parametrize(("card", "problem"), [
    ({"task": "poetry"}, "'task' must be one of"),
    ({"task": "binary", "labels": ["one"]}, "2 labels"),
])
def test_a_bad_card_is_refused_before_anything_is_visible(registry, card, problem):
    def build(folder):
        (folder / "model.keras").write_bytes(b"x")
        return card

    with pytest.raises(DataError, match=problem):
        registry.publish("bad-card", build)
    assert registry.versions("bad-card") == []
    assert list((registry.root / ".staging").iterdir()) == []


def test_symlinks_and_empty_stages_are_refused(registry, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("x")

    def build(folder):
        (folder / "model.keras").symlink_to(secret)
        return {"task": "binary"}

    with pytest.raises(UserError, match="symbolic link"):
        registry.publish("linky", build)
    with pytest.raises(UserError, match="no files"):
        registry.publish("empty", lambda folder: {"task": "binary"})
    assert registry.names() == []


def test_bad_names_never_touch_the_disk(registry):
    for name in ("..", "/x", "a/b", "/tmp/abs", "Upper", ""):
        with pytest.raises(UserError):
            registry.publish(name, builder())
    assert not registry.root.exists() or registry.names() == []


def test_version_numbers_are_never_reused(registry):
    registry.publish("m", builder())
    registry.publish("m", builder())
    assert registry.remove("m:2") == ["m:2"]
    assert registry.publish("m", builder()).version == 3
    assert registry.remove("m") == ["m:1", "m:3"]
    assert registry.names() == []
    assert registry.publish("m", builder()).version == 4


def test_unknown_names_versions_and_aliases_suggest(registry):
    registry.publish("imdb-lstm", builder(), aliases=["best"])
    with pytest.raises(NotFoundError, match=r"no model named 'imdb-lstn'.*did you mean imdb-lstm"):
        registry.resolve("imdb-lstn")
    with pytest.raises(NotFoundError, match=r"has no version 7 \(versions: 1\)"):
        registry.resolve("imdb-lstm:7")
    with pytest.raises(NotFoundError, match=r"no alias 'bets'.*did you mean best"):
        registry.resolve("imdb-lstm@bets")


def test_aliases_move_and_go_with_removed_versions(registry):
    registry.publish("m", builder())
    registry.publish("m", builder())
    registry.set_alias("m", "best", 1)
    registry.set_alias("m", "prod", 1)
    assert registry.aliases("m") == {"best": 1, "prod": 1}
    registry.set_alias("m", "best", 2)
    assert registry.resolve("m@best").version == 2
    registry.remove_alias("m", "prod")
    assert registry.aliases("m") == {"best": 2}
    with pytest.raises(NotFoundError):
        registry.remove_alias("m", "prod")
    with pytest.raises(NotFoundError, match="no version 9"):
        registry.set_alias("m", "best", 9)
    with pytest.raises(UserError, match="reserved"):
        registry.set_alias("m", "latest", 1)
    registry.remove("m@best")  # removes version 2, and the alias with it
    assert registry.versions("m") == [1]
    assert registry.aliases("m") == {}


def test_tags(registry):
    registry.publish("m", builder(), tags=["baseline"])
    registry.add_tag("m", 1, "keep")
    registry.add_tag("m", 1, "keep")  # idempotent
    assert registry.resolve("m").tags == ["baseline", "keep"]
    registry.remove_tag("m", 1, "baseline")
    assert registry.tags("m") == {1: ["keep"]}
    with pytest.raises(NotFoundError):
        registry.remove_tag("m", 1, "baseline")
    with pytest.raises(UserError):
        registry.add_tag("m", 1, "Bad Tag")


def test_remove_unknown(registry):
    with pytest.raises(NotFoundError):
        registry.remove("ghost")
    registry.publish("m", builder())
    with pytest.raises(NotFoundError):
        registry.remove("m:5")
    assert registry.versions("m") == [1]
    assert list((registry.root / ".trash").iterdir()) == []


def test_list_models_reads_cards_and_survives_a_corrupt_one(registry):
    registry.publish("alpha", builder(), aliases=["best"])
    registry.publish("alpha", builder(metrics={"validation": {"accuracy": 0.5}}))
    registry.publish("beta", builder(task="regression", labels=[],
                                     metrics={"test": {"mae": 0.25, "loss": 0.1}}))
    registry.publish("gamma", builder())
    # Damage gamma's only card and alpha's latest one.
    card = registry.root / "gamma" / "1" / "card.json"
    card.write_text(card.read_text()[:40])
    (registry.root / "alpha" / "2" / "card.json").unlink()
    (registry.root / "Not-A-Name").mkdir()

    listing = registry.list_models()
    by_name = {summary.name: summary for summary in listing}
    assert set(by_name) == {"alpha", "beta"}
    alpha = by_name["alpha"]
    assert alpha.versions == [1, 2] and alpha.version == 1  # fell back to a readable card
    assert (alpha.task, alpha.dataset, alpha.accuracy) == ("binary", "nsmc", 0.875)
    assert alpha.aliases == {"best": 1} and alpha.size_bytes > 0
    assert (by_name["beta"].metric, by_name["beta"].metric_value) == ("mae", 0.25)
    assert by_name["beta"].accuracy is None
    problems = " | ".join(str(w) for w in listing.warnings)
    assert "gamma/1/card.json" in problems and "not valid JSON" in problems
    assert "alpha/2/card.json" in problems and "missing" in problems
    assert "Not-A-Name" in problems
    # Resolving the damaged version names the file; the others still work.
    with pytest.raises(DataError, match="gamma/1/card.json"):
        registry.resolve("gamma").card
    assert registry.resolve("beta").card["task"] == "regression"
    assert json.loads(json.dumps(alpha.to_dict()))["accuracy"] == 0.875


def test_generation_changes_with_every_change(registry):
    seen = [registry.generation()]

    def changed():
        value = registry.generation()
        assert value not in seen
        seen.append(value)
        assert registry.generation() == value  # stable while nothing changes

    registry.publish("m", builder())
    changed()
    registry.publish("m", builder())
    changed()
    registry.set_alias("m", "best", 1)
    changed()
    registry.add_tag("m", 1, "x")
    changed()
    registry.remove("m:2")
    changed()
    registry.publish("n", builder())
    changed()


def test_read_only_registries_refuse_changes(tmp_path):
    writable = Registry(tmp_path / "shipped")
    writable.publish("demo", builder())
    shipped = Registry(tmp_path / "shipped", read_only=True)
    assert shipped.resolve("demo").source == "shipped"
    for change in (lambda: shipped.publish("x", builder()),
                   lambda: shipped.set_alias("demo", "best", 1),
                   lambda: shipped.add_tag("demo", 1, "t"),
                   lambda: shipped.remove("demo")):
        with pytest.raises(UserError, match="read-only"):
            change()
    assert shipped.versions("demo") == [1]


def test_user_registry_first_then_shipped(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(tmp_path / "shipped"))
    Registry(tmp_path / "shipped").publish("imdb-demo", builder())
    Registry(tmp_path / "shipped").publish("both", builder(b"shipped"))
    registries = open_registries()
    assert isinstance(registries, Registries)
    assert registries.user.root == tmp_path / "home" / "models"
    assert registries.shipped.read_only
    assert registries.resolve("imdb-demo").source == "shipped"

    registries.publish("both", builder(b"mine"))
    assert registries.resolve("both").source == "user"
    assert registries.resolve("both").file("model.keras").read_bytes() == b"mine"
    listing = registries.list_models()
    assert [(s.name, s.source) for s in listing] == [("both", "user"), ("imdb-demo", "shipped")]
    with pytest.raises(UserError, match="shipped model and read-only"):
        registries.set_alias("imdb-demo", "best", 1)
    with pytest.raises(UserError, match="shipped model and read-only"):
        registries.remove("imdb-demo")
    with pytest.raises(NotFoundError, match="did you mean imdb-demo"):
        registries.resolve("imdb-dem")
    before = registries.generation()
    registries.set_alias("both", "best", 1)
    assert registries.generation() != before


def test_no_shipped_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    registries = open_registries()
    assert registries.shipped is None
    assert registries.list_models() == []
    assert registries.generation() == "absent"


def test_stale_staging_of_a_dead_writer_is_swept(registry):
    registry.publish("m", builder())
    staging = registry.root / ".staging"
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]
    dead = staging / f"m.{host}.999999999.abcd1234"
    alive = staging / f"m.{host}.{os.getpid()}.abcd1234"
    dead.mkdir()
    alive.mkdir()
    swept = registry.sweep()
    assert swept == [dead]
    assert alive.exists()


def test_hand_made_folders_and_tags_that_only_look_like_numbers(registry):
    """str.isdigit() takes "²" and int() refuses it: a folder or a tags.json key made by
    hand was a ValueError (an internal error) in every command listing the model."""
    registry.publish("m", builder(), tags=["keep"])
    for odd in ("²", "١", "9" * 5000):
        (registry.root / "m" / odd[:200]).mkdir()
    assert registry.versions("m") == [1]
    (registry.root / "m" / "tags.json").write_text(json.dumps({"²": ["x"]}), encoding="utf-8")
    with pytest.raises(DataError, match="tags must map version numbers"):
        registry.tags("m")
