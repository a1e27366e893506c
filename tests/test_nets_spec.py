"""Architecture specs: normalising, the compact syntax, named architectures (no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rnn_tui.errors import DataError, UserError
from rnn_tui.nets import (
    NAMED_ARCHS,
    load_spec_file,
    named_spec,
    normalize_spec,
    parse_compact,
    resolve_arch,
    to_compact,
)
from rnn_tui.nets.spec import return_sequences


def test_compact_and_json_give_the_same_spec():
    compact = normalize_spec("emb:32 lstm:64,dropout=0.2 lstm:32")
    written = normalize_spec({"layers": [
        {"type": "embedding", "dim": 32},
        {"type": "lstm", "units": 64, "dropout": 0.2},
        {"type": "lstm", "units": 32},
    ]})
    assert compact == written
    assert compact["input"] == "tokens"
    assert compact["layers"][0]["mask_zero"] == "auto"
    assert compact["head"] == {"activation": "auto", "units": "auto", "separate_activation": False}


@pytest.mark.parametrize("text", [
    "emb:32 lstm:64 lstm:32",
    "emb:100 dropout:0.5 conv1d:64:5 maxpool:4 lstm:100 head:sigmoid,separate=true",
    "emb:128,mask=false bilstm:64,dropout=0.2 pool:max+average dense:64 dropout:0.3",
    "onehot simplernn:8",
    "gru:30 gru:30 head:linear",
    "emb:16,trainable=false,vectors=v.txt,format=glove spatial-dropout:0.2 bigru:8 pool:average",
    "emb:32 flatten dense:16:tanh",
    "emb:300 lstm:50 head:softmax:2",
    "emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5",
    "emb:64 ngram-emb:32,n=2 ngram-emb:16,n=3,trainable=false lstm:8 pool:last+average",
])
def test_compact_round_trip(text):
    spec = normalize_spec(text)
    assert normalize_spec(to_compact(spec)) == spec


def test_separators_and_aliases():
    assert normalize_spec("emb:8 > rnn:4 | gru:4") == normalize_spec("embedding:8 simplernn:4 gru:4")
    assert normalize_spec("bilstm:4")["layers"][0] == {
        "type": "lstm", "units": 4, "dropout": 0.0, "recurrent_dropout": 0.0,
        "bidirectional": True}
    assert normalize_spec("lstm:4,rd=0.1")["layers"][0]["recurrent_dropout"] == 0.1


def test_return_sequences_is_set_between_layers():
    layers = normalize_spec("emb:8 lstm:4 dropout:0.1 lstm:4 pool:max dense:3")["layers"]
    assert return_sequences(layers, 1) is True   # next non-dropout layer is recurrent
    assert return_sequences(layers, 3) is True   # followed by a pool
    layers = normalize_spec("emb:8 gru:4 dropout:0.5 dense:8")["layers"]
    assert return_sequences(layers, 1) is False


@pytest.mark.parametrize("text, message", [
    ("", "empty architecture"),
    ("emb:32", "end with a sequence"),
    ("emb:32 dense:8", "gets a sequence"),
    ("emb:8 lstm:4 lstm:4 dense:2 conv1d:4:3", "needs a sequence but gets a vector"),
    ("lstm:4 emb:8", "must be the first layer"),
    ("lstm", "'units' is required"),
    ("lstm:0", ">= 1"),
    ("lstm:four", "whole number"),
    ("lstm:4,dropout=1.5", "[0, 1)"),
    ("lstm:4,colour=red", "unknown setting"),
    ("wavenet:4", "unknown kind"),
    ("emb:8 transformer:4", "'key_dim' is required"),
    ("emb:8 lstm:4 pool:median", "pool mode"),
    ("emb:8 lstm:4 pool:last", "last state alone"),
    ("emb:8 bilstm:4 pool:last+max", "unidirectional"),
    ("emb:8 lstm:4 dropout:0.2 pool:max+last", "right after"),
    ("emb:8 gru:4 ngram-emb:4", "right after the word embedding"),
    ("onehot ngram-emb:4 gru:4", "right after the word embedding"),
    ("emb:8 ngram-emb:4,n=1 gru:4", ">= 2"),
    ("emb:8 ngram-emb:4,n=2 ngram-emb:4,n=2 gru:4", "same n"),
    ("emb:8 conv1d:4:3,activation=gelu lstm:2", "activation"),
    ("emb:8 lstm:4 head:tanh", "head activation"),
    ("emb:8 lstm:4 head:sigmoid lstm:4", "head must be the last"),
    ("emb:8:9 lstm:4", "too many"),
    ("emb:8,mask lstm:4", "KEY=VALUE"),
])
def test_bad_specs_are_user_errors_that_say_why(text, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        normalize_spec(text)


def test_layer_errors_name_the_layer():
    with pytest.raises(UserError, match=r"layer 2 \(lstm\)"):
        normalize_spec({"layers": [{"type": "embedding", "dim": 4}, {"type": "lstm"}]})


def test_spec_files_json_list_and_compact(tmp_path):
    as_object = tmp_path / "a.json"
    as_object.write_text(json.dumps({"layers": [{"type": "embedding", "dim": 8},
                                                {"type": "gru", "units": 4}]}))
    as_list = tmp_path / "b.json"
    as_list.write_text(json.dumps([{"type": "embedding", "dim": 8}, {"type": "gru", "units": 4}]))
    as_text = tmp_path / "c.txt"
    as_text.write_text("emb:8\ngru:4\n")
    assert load_spec_file(as_object) == load_spec_file(as_list) == load_spec_file(as_text)


def test_bad_spec_files_are_data_errors_naming_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"layers": [\n  {"type": "lstm", }\n]}')
    with pytest.raises(DataError, match=r"broken.json:2: not valid JSON"):
        load_spec_file(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"layers": [{"type": "lstm"}]}')
    with pytest.raises(DataError, match="wrong.json.*'units' is required"):
        load_spec_file(wrong)
    with pytest.raises(DataError, match="not found"):
        load_spec_file(tmp_path / "missing.json")


@pytest.mark.parametrize("name", list(NAMED_ARCHS))
def test_every_named_arch_is_a_valid_token_spec(name):
    spec = named_spec(name)
    assert spec["input"] == "tokens"
    assert normalize_spec(to_compact(spec)) == spec


def test_named_knobs():
    spec = named_spec("stacked-lstm", units=[64, 32], embedding_dim=32)
    assert to_compact(spec) == "emb:32 lstm:64 lstm:32"
    spec = named_spec("gru", units=16, layers=3, dropout=0.2, bidirectional=True, pool="max",
                      dense=8, spatial_dropout=0.1)
    assert to_compact(spec) == ("emb:64 spatial-dropout:0.1 bigru:16,dropout=0.2 "
                                "bigru:16,dropout=0.2 bigru:16,dropout=0.2 pool:max dense:8")
    assert to_compact(named_spec("conv-lstm")) == \
        "emb:100 dropout:0.5 conv1d:64:5 maxpool:4 lstm:100"
    assert to_compact(named_spec("lstm", input_kind="sequence", units=30, layers=2)) == \
        "lstm:30 lstm:30"
    assert to_compact(named_spec("onehot-simplernn")) == "onehot simplernn:8"
    assert to_compact(named_spec("lstm", head="softmax")) == "emb:64 lstm:64 head:softmax"


def test_named_arch_errors():
    with pytest.raises(UserError, match="did you mean lstm"):
        named_spec("lsmt")
    with pytest.raises(UserError, match="reads token ids"):
        named_spec("flatten", input_kind="sequence")
    with pytest.raises(UserError, match="lists 2 sizes but --layers is 3"):
        named_spec("lstm", units=[4, 2], layers=3)


def test_resolve_arch_names_compact_and_knob_misuse():
    assert resolve_arch("gru", {"units": 8}) == named_spec("gru", units=8)
    assert resolve_arch("emb:8 gru:4") == normalize_spec("emb:8 gru:4")
    with pytest.raises(UserError, match="--units only apply to a named architecture"):
        resolve_arch("emb:8 gru:4", {"units": 8})
    with pytest.raises(UserError, match="unknown architecture 'grue'"):
        resolve_arch("grue")
    assert parse_compact("onehot simplernn:8")["layers"][0] == {"type": "onehot"}


def test_spec_modules_do_not_import_tensorflow():
    code = ("import sys; import rnn_tui.nets, rnn_tui.nets.spec, rnn_tui.nets.zoo; "
            "rnn_tui.nets.resolve_arch('lstm'); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pool_modes_are_ordered_max_average_last():
    spec = normalize_spec("emb:8 gru:4 pool:last+avg+max")
    assert spec["layers"][-1]["mode"] == "max+average+last"
    assert to_compact(spec) == "emb:8 gru:4 pool:max+average+last"


def test_ngram_assignment():
    from rnn_tui.nets import ngram_assignment

    one_for_all = normalize_spec("emb:8 ngram-emb:4 gru:4")
    assert ngram_assignment(one_for_all, [3, 2]) == {2: 1, 3: 1}
    assert ngram_assignment(normalize_spec("emb:8 gru:4"), []) == {}
    pinned = normalize_spec("emb:8 ngram-emb:4,n=3 ngram-emb:2 gru:4")
    assert ngram_assignment(pinned, [2, 3]) == {2: 2, 3: 1}
    each = normalize_spec("emb:8 ngram-emb:4 ngram-emb:2 gru:4")
    assert ngram_assignment(each, [2, 3]) == {2: 1, 3: 2}
    with pytest.raises(UserError, match="--ngrams"):
        ngram_assignment(one_for_all, [])
    with pytest.raises(UserError, match="add ngram-emb"):
        ngram_assignment(normalize_spec("emb:8 gru:4"), [2])
    with pytest.raises(UserError, match="n=3 but the n-gram features are 2"):
        ngram_assignment(normalize_spec("emb:8 ngram-emb:4,n=3 gru:4"), [2])
    with pytest.raises(UserError, match="one per order"):
        ngram_assignment(each, [2])


def test_named_arch_ngram_knob():
    spec = named_spec("gru", ngram_dim=32, pool="max+average+last")
    assert to_compact(spec) == "emb:64 ngram-emb:32 gru:64 pool:max+average+last"
    with pytest.raises(UserError, match="no word embedding"):
        named_spec("onehot-simplernn", ngram_dim=8)
