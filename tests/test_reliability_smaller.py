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
