"""Model names and references: what is accepted, and what is refused with a clear message."""

from __future__ import annotations

import pytest

from rnn_tui.errors import UserError
from rnn_tui.registry import ModelRef, check_alias, check_name, check_tag


@pytest.mark.parametrize("name", ["imdb", "imdb-lstm", "nsmc_gru.v2", "a", "0", "x" * 64,
                                  "reuters-46"])
def test_plain_names_are_accepted(name):
    assert check_name(name) == name


@pytest.mark.parametrize(("name", "problem"), [
    ("", "empty"),
    ("..", "start with '.'"),
    ("a..b", "'..'"),
    (".hidden", "start with '.'"),
    ("/x", "path separator"),
    ("a/b", "path separator"),
    ("/tmp/abs", "path separator"),
    ("a\\b", "path separator"),
    ("Imdb", "lowercase"),
    ("x" * 65, "longer than 64"),
    ("sp ace", "only lowercase letters"),
    ("감성", "only lowercase letters"),
    ("a:b", "only lowercase letters"),
])
def test_bad_names_are_refused_with_the_reason(name, problem):
    with pytest.raises(UserError, match="model name|empty") as error:
        check_name(name)
    assert problem in str(error.value)


def test_references_parse():
    assert ModelRef.parse("imdb") == ModelRef("imdb")
    assert ModelRef.parse("imdb:3") == ModelRef("imdb", version=3)
    assert ModelRef.parse("imdb@best") == ModelRef("imdb", alias="best")
    assert ModelRef.parse("imdb@latest") == ModelRef("imdb")  # latest = the default
    assert ModelRef.parse(" imdb:12 ").version == 12
    assert str(ModelRef.parse("imdb:3")) == "imdb:3"
    assert str(ModelRef.parse("imdb@best")) == "imdb@best"
    assert ModelRef.parse("imdb").is_plain_name
    assert not ModelRef.parse("imdb@best").is_plain_name


@pytest.mark.parametrize(("text", "problem"), [
    ("", "empty model reference"),
    ("imdb:", "positive number"),
    ("imdb:0", "positive number"),
    ("imdb:-1", "positive number"),
    ("imdb:x", "positive number"),
    ("imdb:1@best", "both"),
    ("imdb@", "empty"),
    ("imdb@3", "number"),
    ("../etc:1", "path separator"),
    ("..:1", "start with"),
    ("IMDB", "lowercase"),
    ("a/b@best", "path separator"),
    ("imdb:" + "9" * 19, "more than 18 digits"),
    ("imdb:" + "9" * 5000, "more than 18 digits"),  # int() would raise a ValueError
])
def test_bad_references_are_refused(text, problem):
    with pytest.raises(UserError) as error:
        ModelRef.parse(text)
    assert problem in str(error.value)


def test_aliases_and_tags():
    assert check_alias("best") == "best"
    assert check_tag("baseline") == "baseline"
    with pytest.raises(UserError, match="reserved"):
        check_alias("latest")
    with pytest.raises(UserError, match="number"):
        check_alias("7")
    with pytest.raises(UserError, match="lowercase"):
        check_tag("Baseline")
    with pytest.raises(UserError, match="path separator"):
        check_tag("../x")


def test_versions_with_thousands_of_digits_are_refused():
    """int() refuses over 4,300 digits with a ValueError (an "internal error", a 500 from
    `serve`): the fuzz target of the HTTP paths found it."""
    from rnn_tui.registry.names import check_version

    assert check_version("9" * 18) == 10**18 - 1
    for text in ("9" * 19, "9" * 5000):
        with pytest.raises(UserError, match="not a positive whole number"):
            check_version(text)
    with pytest.raises(UserError) as error:
        ModelRef.parse("imdb:" + "9" * 5000)
    assert len(str(error.value)) < 200  # the reference shown shortened
