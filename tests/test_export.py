"""``rnn-tui export``: each format, run by its own runtime (TensorFlow for SavedModel, the
TFLite interpreter, onnxruntime, Keras), gives the registry model's probabilities to 1e-5 on
real texts, for the shipped models and a zoo sample; preprocess.json reproduces the ids; bad
exports are one line, exit code 2 and leave nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_shipped_models import ENGLISH, KOREAN, NEWS
from train_support import publish_tiny, text_corpus

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED_TEXTS = {"imdb-sentiment": [t for t, _ in ENGLISH],
                 "nsmc-sentiment": [t for t, _ in KOREAN],
                 "reuters-topics": [t for t, _ in NEWS]}
TOLERANCE = 1e-5


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True,
                          timeout=300, env=dict(os.environ, PYTHONIOENCODING="utf-8"))


# ---------------------------------------------------------------------------- runtimes


def run_artifact(folder: Path, inputs: list[np.ndarray], names: list[str]) -> np.ndarray:
    """The exported artifact's outputs, computed by its own runtime."""
    description = json.loads((folder / "preprocess.json").read_text())
    fmt = description["artifact_format"]
    artifact = folder / description["artifact"]
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(artifact))
        serve = loaded.signatures["serving_default"]
        feed = {name: tf.constant(array) for name, array in zip(names, inputs)}
        return next(iter(serve(**feed).values())).numpy()
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(artifact),
                                               providers=["CPUExecutionProvider"])
        by_name = dict(zip(names, inputs))
        feed = {}
        for given in session.get_inputs():
            dtype = np.int64 if "int64" in given.type else (
                np.float32 if "float" in given.type else np.int32)
            feed[given.name] = by_name[given.name].astype(dtype)
        return session.run(None, feed)[0]
    if fmt == "tflite":
        import tensorflow as tf

        interpreter = tf.lite.Interpreter(model_path=str(artifact))
        interpreter.allocate_tensors()
        details = interpreter.get_input_details()
        rows = []
        for row in range(len(inputs[0])):  # (1, maxlen): one text per invoke
            for detail in details:
                name = next(n for n in names if detail["name"].endswith(f"_{n}:0")
                            or detail["name"] == n)
                interpreter.set_tensor(detail["index"], inputs[names.index(name)][row:row + 1])
            interpreter.invoke()
            rows.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0])
        return np.array(rows)
    from rnn_tui.backend import keras

    model = keras().saving.load_model(str(artifact), safe_mode=True, compile=False)
    return np.asarray(model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0))


def assert_parity(ref: str, fmt: str, texts: list[str], out: Path) -> dict:
    from rnn_tui.export import export_model
    from rnn_tui.export.preprocess import model_inputs
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import load_keras_model, open_registries
    from rnn_tui.text.features import TextFeatures

    result = export_model(ref, fmt, out)
    version = open_registries().resolve(ref)
    model = load_keras_model(version, compile=False)
    names = [tensor.name for tensor in model.inputs]
    predictor = Predictor.load(version)
    inputs = model_inputs(predictor, texts, names)
    expected = np.asarray(model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0))
    got = run_artifact(out, inputs, names)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= TOLERANCE, (ref, fmt, np.abs(got - expected).max())
    # preprocess.json: the folder's own vocabularies give the example's ids, and the
    # artifact gives the example's outputs
    description = json.loads((out / "preprocess.json").read_text())
    assert description["model"] == version.ref and description["labels"] == predictor.labels
    example = description["example"]
    features = TextFeatures.load(out, (version.card.get("input") or {}).get("features"))
    ids = np.asarray(features.ids(features.vocabulary.tokenize(example["text"])))
    for name in names:
        column = ids if ids.ndim == 1 else ids[:, features.names.index(name)]
        assert column[-description["sequence"]["maxlen"]:].tolist() == example["ids"][name]
    example_inputs = model_inputs(predictor, [example["text"]], names)
    assert np.abs(run_artifact(out, example_inputs, names)[0]
                  - np.array(example["outputs"])).max() <= TOLERANCE
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["card.json", "preprocess.json", result.artifact, *description["vocabularies"]])
    return description


# ---------------------------------------------------------------------------- parity


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(SHIPPED_DIR))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx", "keras"])
def test_shipped_models_export_with_parity(shipped, tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
        pytest.importorskip("onnxruntime")
    for name, texts in SHIPPED_TEXTS.items():
        description = assert_parity(name, fmt, texts, tmp_path / f"{name}-{fmt}")
        assert description["sequence"]["fixed_length"] == (fmt == "tflite")


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["lstm", "gru", "bilstm", "conv-lstm"])
def test_zoo_sample_exports_with_parity(isolated_home, tmp_path, arch):
    corpus = text_corpus("binary", train=32, test=8)
    publish_tiny(isolated_home, corpus, dataset="toy", arch=arch, epochs=1, name=f"zoo-{arch}",
                 maxlen=12)
    texts = list(corpus.test.texts[:4]) + ["words it never saw at all"]
    formats = ["savedmodel", "tflite", "keras"]
    try:
        import onnxruntime  # noqa: F401
        import tf2onnx  # noqa: F401

        formats.append("onnx")
    except ImportError:
        pass
    for fmt in formats:
        assert_parity(f"zoo-{arch}", fmt, texts, tmp_path / f"{arch}-{fmt}")


# ---------------------------------------------------------------------------- refusals


def test_refusals_are_one_line_exit_2_and_leave_nothing(shipped, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    for args, message in [
            (["imdb-sentiment", "--format", "onnx", str(taken)], "exists already"),
            (["imbd-sentiment", "--format", "onnx", str(tmp_path / "new")],
             "no model named 'imbd-sentiment'"),
            (["imdb-sentiment", "--format", "pmml", str(tmp_path / "new")],
             "Invalid value for '--format'"),
            (["imdb-sentiment", "--format", "onnx", str(tmp_path / "no" / "such" / "dir")],
             "is not a folder")]:
        done = cli("export", *args)
        assert done.returncode == 2, done.stderr
        err = done.stderr.decode()
        assert message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_converter_refusal_names_the_layer(shipped, tmp_path, monkeypatch):
    """A layer the converter cannot take: one line naming it, and no folder left."""
    from rnn_tui.errors import UserError
    from rnn_tui.export import export_model, formats

    def refuse(model, folder, maxlen):
        (folder / "model.tflite").write_bytes(b"half")
        gru = next(layer for layer in model.layers if type(layer).__name__ == "GRU")
        raise RuntimeError(f"loc(fused[\"{model.name}_1/{gru.name}_1/TensorArrayV2\"]): "
                           "error: failed to legalize operation 'tf.TensorListReserve'")

    monkeypatch.setattr(formats, "write_tflite", refuse)
    with pytest.raises(UserError) as caught:
        export_model("reuters-topics", "tflite", tmp_path / "out")
    message = str(caught.value)
    assert message.startswith("cannot export to tflite: layer 'gru")
    assert "(GRU)" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []
