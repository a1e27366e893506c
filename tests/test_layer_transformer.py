"""The Transformer encoder block, a layer kind added through the two kind tables.

Built from the spec (``transformer:H:K``) by ``nets/layers/transformer.py``, exported and
evaluated by ``infer/layers/transformer.py``; the runtime must match Keras to 1e-5 in
probability with and without masks, on both padding sides, with attention dropout (Keras'
other attention path) and after a recurrent layer, and stream by recomputing.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.infer.export import model_graph
from rnn_tui.infer.streaming import make_stream, streaming_support
from rnn_tui.nets import ModelInput, build_model, normalize_spec, to_compact
from test_infer_parity import STEPS, VOCABULARY, assert_parity, padded_ids, randomize

pytestmark = pytest.mark.filterwarnings("ignore:Layer .* does not support masking")


def built(spec: str, *, padding: str = "post", task: str = "binary", classes=None):
    model = build_model(normalize_spec(spec), ModelInput.tokens(STEPS, VOCABULARY),
                        task=task, num_classes=classes, padding=padding)
    randomize(model, seed=3, scale=0.4)
    return model


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("pool", ["average", "max", "max+average"])
def test_encoder_block_matches_keras(tmp_path, padding, pool):
    model = built(f"emb:8 transformer:2:4,ff=16 pool:{pool}", padding=padding)
    masked = model.get_layer("embedding").mask_zero
    assert masked == (padding == "post")  # the pads are masked out of the attention
    assert_parity(model, padded_ids(30, STEPS, padding), tmp_path)


def test_attention_dropout_takes_keras_other_path(tmp_path):
    # with dropout Keras scores through its Softmax layer, which zeroes masked query rows
    # (the fused path leaves them uniform); a max pool reads those rows
    model = built("emb:8 transformer:2:4,dropout=0.1 pool:max+average", padding="post")
    graph, _ = model_graph(model)
    attention = next(node for node in graph["nodes"] if node["op"] == "multi_head_attention")
    assert attention["config"]["zero_masked_rows"] is True
    assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)


def test_after_a_recurrent_layer_and_stacked(tmp_path):
    # Keras detaches the mask of the tensors an attention layer reads, so the second block
    # attends to the pads too (as Keras computes it); the exporter records that per node
    model = built("emb:8 gru:8 transformer:2:4 transformer:1:8,ff=8 pool:max+average",
                  task="multiclass", classes=3)
    graph, _ = model_graph(model)
    attention = [node["config"] for node in graph["nodes"]
                 if node["op"] == "multi_head_attention"]
    assert [(c["query_mask"], c["value_mask"]) for c in attention] == [(True, True),
                                                                        (False, False)]
    assert_parity(model, padded_ids(30, STEPS, "post"), tmp_path)


def test_recomputes_when_streaming(tmp_path):
    from rnn_tui.infer.export import export_runtime
    from rnn_tui.infer.runtime import Runtime

    model = built("emb:8 transformer:2:4 pool:average")
    export_runtime(model, tmp_path / "runtime.npz")
    runtime = Runtime.load(tmp_path / "runtime.npz")
    streamable, why = streaming_support(runtime.graph)
    assert not streamable and "MultiHeadAttention" in why
    stream = make_stream(runtime, maxlen=STEPS, padding="post", truncating="pre")
    ids = [5, 9, 13, 2, 7]
    expected = model.predict(padded_ids(1, STEPS, "post") * 0 + np.array(
        [ids + [0] * (STEPS - len(ids))]), verbose=0)[0]
    np.testing.assert_allclose(stream.update(ids), expected, atol=1e-5)
    trace = stream.trace(ids)
    assert trace.shape == (len(ids), 1)
    np.testing.assert_allclose(trace[-1], expected, atol=1e-5)


def test_spec_round_trip_and_errors():
    spec = normalize_spec("emb:16 encoder:4:8,ff=32,dropout=0.1 pool:average")
    assert to_compact(spec) == "emb:16 transformer:4:8,ff=32,dropout=0.1 pool:average"
    with pytest.raises(UserError, match="needs a sequence"):
        normalize_spec("emb:8 gru:8 pool:max transformer:2:4")  # after pooling
    with pytest.raises(UserError, match="end with a recurrent layer, a pool"):
        normalize_spec("emb:8 transformer:2:4")  # the head needs one vector
    with pytest.raises(UserError, match="heads must be a whole number"):
        normalize_spec("emb:8 transformer:two:4 pool:max")
    with pytest.raises(UserError, match="'key_dim' is required"):
        normalize_spec("emb:8 transformer:2 pool:max")
    # a recurrent layer before the block returns its whole sequence
    assert build_model(spec := normalize_spec("emb:8 gru:8 transformer:2:4 pool:max"),
                       ModelInput.tokens(STEPS, VOCABULARY), task="binary"
                       ).get_layer("gru_1").return_sequences
    assert spec["layers"][2]["type"] == "transformer"


@pytest.mark.slow
def test_end_to_end_train_publish_predict_stream_summary(tmp_path):
    """The new kind through the real CLI: train, publish, predict, stream, summary."""
    import os
    import subprocess
    import sys

    from tui_models import ENGLISH, ENGLISH_FILLER, _write_corpus

    corpus = _write_corpus(tmp_path / "reviews.csv", ENGLISH, ENGLISH_FILLER, 300, 1)
    env = dict(os.environ, RNN_TUI_HOME=str(tmp_path / "home"))

    def cli(*arguments: str) -> str:
        done = subprocess.run([sys.executable, "-m", "rnn_tui", *arguments], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("train", "--dataset", str(corpus), "--dataset-option", "text_col=text",
        "--dataset-option", "label_col=label", "--arch",
        "emb:16 transformer:2:8,ff=16 pool:max+average", "--epochs", "4", "--plain",
        "--name", "tiny-transformer")
    assert cli("predict", "-m", "tiny-transformer", "a superb and charming film"
               ).startswith("positive")
    summary = cli("summary", "tiny-transformer")
    assert "MultiHeadAttention" in summary and "LayerNormalization" in summary

    from rnn_tui.infer import Predictor
    from rnn_tui.registry import Registry

    version = Registry(tmp_path / "home" / "models").resolve("tiny-transformer")
    assert version.card["architecture"]["spec"]["layers"][1]["type"] == "transformer"
    predictor = Predictor.from_folder(version.path, version.card)
    session = predictor.session()
    assert not session.streaming  # attention recomputes: still the same answers
    text = "a superb and charming film"
    expected = predictor.predict([text])[0]
    np.testing.assert_allclose(session.update(text), expected, atol=1e-6)
    trace = predictor.trace(text)
    assert [word for word, _ in trace] == text.split()
    np.testing.assert_allclose(trace[-1][1], expected, atol=1e-6)
