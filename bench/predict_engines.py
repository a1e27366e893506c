"""NumPy on the exported weights against onnxruntime on an ONNX graph: the engine choice.

    python bench/predict_engines.py                  # the bench LSTM and GRU models
    python bench/predict_engines.py --reviews 2000

The ONNX graph is built here with the ``onnx`` helper API from the same runtime.npz weights
(Gather -> LSTM/GRU with ``sequence_lens`` -> masked max and mean over time -> Dense ->
sigmoid), which covers the benchmark models (embedding, one recurrent layer, max+mean
pooling, post padding with a mask). Both engines are measured on:

1. import + load: a fresh process importing the engine and loading the model;
2. one text: a median-length review, padded, one call;
3. per keystroke: a 100-token review, one more character typed. NumPy: the live session
   (streaming). onnxruntime: (a) the whole graph on the new ids, and (b) streaming with a
   one-step graph (states in, states out) plus the pooling kept in NumPy;
4. batch throughput on IMDB test reviews (tokenized beforehand), both sorted by length and
   run in batches of 128 padded to the batch's longest review; onnxruntime with one and
   with two threads (NumPy's BLAS runs on one).

Parity of the ONNX graph with the NumPy runtime is checked on the batch.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from predict_common import (  # noqa: E402
    DEFAULT_MODELS,
    OUT,
    ensure_model,
    imdb_test_texts,
    machine,
    percentiles,
    save,
    setup_environment,
)
from predict_latency import reviews_of  # noqa: E402


# ------------------------------------------------------------------ the ONNX graph
def _nodes_by_op(graph: dict) -> dict[str, dict]:
    return {node["op"]: node for node in graph["nodes"]}


def onnx_graphs(graph: dict, weights: dict[str, np.ndarray]) -> tuple[bytes, bytes]:
    """(whole model, one recurrent step) as serialized ONNX models."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = _nodes_by_op(graph)
    rnn, dense = nodes["rnn"], nodes["dense"]
    config = rnn["config"]
    kind, units = config["cell"], config["units"]
    if set(nodes) - {"embedding", "rnn", "global_max_pooling1d", "global_average_pooling1d",
                     "concatenate", "dense", "identity"} or kind not in ("lstm", "gru"):
        raise SystemExit("the ONNX comparison covers Embedding + LSTM/GRU + pooling + Dense")
    embedding = weights[nodes["embedding"]["weights"]["embeddings"]]
    kernel = weights[rnn["weights"]["kernel"]]
    recurrent = weights[rnn["weights"]["recurrent_kernel"]]
    bias = weights[rnn["weights"]["bias"]]
    if kind == "lstm":  # Keras i f c o -> ONNX i o f c
        def order(matrix):
            i, f, c, o = np.split(matrix, 4, axis=-1)
            return np.concatenate([i, o, f, c], axis=-1)
        w, r = order(kernel).T[None], order(recurrent).T[None]
        b = np.concatenate([order(bias), np.zeros(4 * units, np.float32)])[None]
        op, extra = "LSTM", {}
    else:  # Keras z r h = ONNX z r h; reset_after = linear_before_reset
        w, r = kernel.T[None], recurrent.T[None]
        b = bias.reshape(1, -1) if bias.ndim == 2 else np.concatenate(
            [bias, np.zeros_like(bias)])[None]
        op, extra = "GRU", {"linear_before_reset": 1 if config.get("reset_after", True) else 0}
    initializers = [numpy_helper.from_array(np.ascontiguousarray(a, np.float32), name)
                    for name, a in (("emb", embedding), ("W", w), ("R", r), ("B", b),
                                    ("dense_w", weights[dense["weights"]["kernel"]]),
                                    ("dense_b", weights[dense["weights"]["bias"]]),
                                    ("big", np.array(1e9, np.float32)),
                                    ("one", np.array(1.0, np.float32)))]
    initializers.append(numpy_helper.from_array(np.array([1], np.int64), "axis1"))
    # the whole model: ids (B, T) + lengths -> probability
    whole = [
        helper.make_node("Gather", ["emb", "ids"], ["x"]),
        helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
        helper.make_node(op, ["xt", "W", "R", "B", "lens"], ["y"], hidden_size=units,
                         **extra),
        helper.make_node("Squeeze", ["y", "axis1"], ["ys"]),  # (T, B, H)
        helper.make_node("Transpose", ["ys"], ["yb"], perm=[1, 0, 2]),  # (B, T, H)
        helper.make_node("Cast", ["mask_in"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "two"], ["mask3"]),
        helper.make_node("Sub", ["mask3", "one"], ["off"]),
        helper.make_node("Mul", ["off", "big"], ["penalty"]),
        helper.make_node("Add", ["yb", "penalty"], ["masked"]),
        helper.make_node("ReduceMax", ["masked"], ["pmax"], axes=[1], keepdims=0),
        helper.make_node("ReduceSum", ["yb", "axis1"], ["total"], keepdims=0),
        helper.make_node("Cast", ["lens"], ["lensf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["lensf", "axis1"], ["lens2"]),
        helper.make_node("Div", ["total", "lens2"], ["pmean"]),
        helper.make_node("Concat", ["pmax", "pmean"], ["pooled"], axis=1),
        helper.make_node("MatMul", ["pooled", "dense_w"], ["logit0"]),
        helper.make_node("Add", ["logit0", "dense_b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p"]),
    ]
    two = numpy_helper.from_array(np.array([2], np.int64), "two")
    whole_graph = helper.make_graph(
        whole, "whole",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [None, None]),
         helper.make_tensor_value_info("lens", TensorProto.INT32, [None]),
         helper.make_tensor_value_info("mask_in", TensorProto.BOOL, [None, None])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, None)],
        initializer=initializers + [two])
    # one step: id, states -> output, states (the pooling stays with the caller)
    state_inputs = ["h0", "c0"] if kind == "lstm" else ["h0"]
    state_outputs = ["h1", "c1"] if kind == "lstm" else ["h1"]
    rnn_inputs = ["xt", "W", "R", "B", "", "h0"] + (["c0"] if kind == "lstm" else [])
    step = [
        helper.make_node("Gather", ["emb", "ids"], ["x"]),
        helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
        helper.make_node(op, rnn_inputs, ["y", *state_outputs], hidden_size=units, **extra),
    ]
    step_graph = helper.make_graph(
        step, "step",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 1])]
        + [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 1, units])
           for name in state_inputs],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
         for name in state_outputs],
        initializer=initializers[:4])
    opset = [helper.make_opsetid("", 17)]
    return (helper.make_model(whole_graph, opset_imports=opset).SerializeToString(),
            helper.make_model(step_graph, opset_imports=opset).SerializeToString())


def ort_session(model: bytes, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def ort_feed(padded: np.ndarray) -> dict[str, np.ndarray]:
    mask = padded != 0
    return {"ids": padded, "lens": mask.sum(1).astype(np.int32), "mask_in": mask}


# ------------------------------------------------------------------ measurements
def import_and_load(runtime_path: Path, onnx_path: Path, runs: int = 5) -> dict:
    numpy_code = ("import time; t = time.perf_counter(); import numpy\n"
                  "from rnn_tui.infer.runtime import Runtime\n"
                  f"Runtime.load({str(runtime_path)!r}); print(time.perf_counter() - t)")
    ort_code = ("import time; t = time.perf_counter(); import numpy, onnxruntime\n"
                f"onnxruntime.InferenceSession({str(onnx_path)!r}, "
                "providers=['CPUExecutionProvider']); print(time.perf_counter() - t)")

    def median(code):
        values = [float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout) for _ in range(runs)]
        return statistics.median(values)

    return {"numpy_s": median(numpy_code), "onnxruntime_s": median(ort_code)}


def one_text(predictor, whole, text: str, repeats: int = 50) -> dict:
    padded = predictor.pad([predictor.text_ids(text)])
    feed = ort_feed(padded)
    numpy_times, ort_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        predictor.runtime.run(padded)
        numpy_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        whole.run(["p"], feed)
        ort_times.append(time.perf_counter() - start)
    return {"tokens": int((padded != 0).sum()), "numpy": percentiles(numpy_times),
            "onnxruntime": percentiles(ort_times)}


class OrtStream:
    """Streaming with onnxruntime: one-step graph per new token, pooling in NumPy."""

    def __init__(self, predictor, step, graph, weights):
        self.predictor = predictor
        self.step = step
        nodes = _nodes_by_op(graph)
        self.kind = nodes["rnn"]["config"]["cell"]
        self.units = nodes["rnn"]["config"]["units"]
        self.kernel = weights[nodes["dense"]["weights"]["kernel"]]
        self.bias = weights[nodes["dense"]["weights"]["bias"]]
        self.ids: list[int] = []
        self.states: list[tuple] = []
        self.outputs: list[np.ndarray] = []

    def update(self, text: str) -> float:
        ids = self.predictor.text_ids(text)
        common = 0
        while common < min(len(ids), len(self.ids)) and ids[common] == self.ids[common]:
            common += 1
        del self.states[common:], self.outputs[common:]
        zero = np.zeros((1, 1, self.units), np.float32)
        state = self.states[-1] if self.states else ((zero, zero) if self.kind == "lstm"
                                                     else (zero,))
        for token in ids[common:]:
            feed = {"ids": np.array([[token]], np.int64), "h0": state[0]}
            if self.kind == "lstm":
                feed["c0"] = state[1]
            state = tuple(self.step.run(None, feed))
            self.states.append(state)
            self.outputs.append(state[0][0, 0])
        self.ids = ids
        stack = np.stack(self.outputs)
        pooled = np.concatenate([stack.max(0), stack.mean(0)])
        logit = pooled @ self.kernel + self.bias
        return float(1 / (1 + np.exp(-logit[0])))


def per_keystroke(predictor, whole, step, graph, weights, reviews: int, keystrokes: int
                  ) -> dict:
    samples = reviews_of(predictor, 100, reviews, keystrokes)
    timings: dict[str, list[float]] = {"numpy streaming": [], "onnxruntime whole graph": [],
                                       "onnxruntime one-step graph": []}
    clock = time.perf_counter
    worst = 0.0
    for prefix, typed in samples:
        session = predictor.session()
        session.update(prefix)
        stream = OrtStream(predictor, step, graph, weights)
        stream.update(prefix)
        for count in range(1, keystrokes + 1):
            text = prefix + typed[:count]
            start = clock()
            expected = session.update(text)
            timings["numpy streaming"].append(clock() - start)
            start = clock()
            padded = predictor.pad([predictor.text_ids(text)])
            whole.run(["p"], ort_feed(padded))
            timings["onnxruntime whole graph"].append(clock() - start)
            start = clock()
            got = stream.update(text)
            timings["onnxruntime one-step graph"].append(clock() - start)
            worst = max(worst, abs(got - float(expected[1])))
    result = {name: percentiles(values) for name, values in timings.items()}
    result["onnx_streaming_vs_numpy_max_difference"] = worst
    return result


def throughput(predictor, whole_model: bytes, ids: list[list[int]], batch: int = 128) -> dict:
    count = len(ids)
    start = time.perf_counter()
    ours = predictor.predict_ids(ids, batch_size=batch)
    numpy_s = time.perf_counter() - start
    lengths = np.array([len(s) for s in ids])
    order = np.argsort(-lengths, kind="stable")
    result = {"numpy_1_thread_reviews_per_s": count / numpy_s}
    for threads in (1, 2):
        session = ort_session(whole_model, threads)
        theirs = np.empty(count, np.float32)
        start = time.perf_counter()
        for begin in range(0, count, batch):
            rows = order[begin: begin + batch]
            padded = predictor.pad([ids[i] for i in rows], int(lengths[rows].max()) or 1)
            theirs[rows] = session.run(["p"], ort_feed(padded))[0][:, 0]
        seconds = time.perf_counter() - start
        result[f"onnxruntime_{threads}_thread_reviews_per_s"] = count / seconds
        result[f"onnxruntime_{threads}_thread_max_difference"] = float(
            np.nanmax(np.abs(theirs - ours[:, 1])))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append")
    parser.add_argument("--home")
    parser.add_argument("--reviews", type=int, default=5000, help="reviews for throughput")
    parser.add_argument("--keystroke-reviews", type=int, default=30)
    parser.add_argument("--keystrokes", type=int, default=20)
    args = parser.parse_args()
    setup_environment(args.home)
    from rnn_tui.infer import Predictor
    from rnn_tui.infer.format import read_runtime
    from rnn_tui.registry import open_registries

    references = [ensure_model(ref) for ref in (args.model or list(DEFAULT_MODELS.values()))]
    texts, _ = imdb_test_texts(args.reviews)
    results = {"machine": machine(), "models": []}
    for reference in references:
        version = open_registries().resolve(reference)
        graph, weights = read_runtime(version.file("runtime.npz"))
        whole_model, step_model = onnx_graphs(graph, weights)
        onnx_path = OUT / f"{reference}.onnx"
        onnx_path.write_bytes(whole_model)
        predictor = Predictor.load(version)
        whole, step = ort_session(whole_model, 1), ort_session(step_model, 1)
        ids = predictor.texts_ids(texts)
        median_text = sorted(texts, key=len)[len(texts) // 2]
        entry = {
            "model": reference,
            "import_and_load_s": import_and_load(version.file("runtime.npz"), onnx_path),
            "one_text": one_text(predictor, whole, median_text),
            "per_keystroke": per_keystroke(predictor, whole, step, graph, weights,
                                           args.keystroke_reviews, args.keystrokes),
            "throughput": throughput(predictor, whole_model, ids),
        }
        results["models"].append(entry)
        report(entry)
    print(f"\nsaved {save('predict_engines', results)}")


def report(entry: dict) -> None:
    print(f"{entry['model']}:")
    load = entry["import_and_load_s"]
    print(f"  import + load: numpy {load['numpy_s']:.3f} s, onnxruntime "
          f"{load['onnxruntime_s']:.3f} s")
    one = entry["one_text"]
    print(f"  one text ({one['tokens']} tokens): numpy p50 {one['numpy']['p50_us']:.0f} us, "
          f"onnxruntime p50 {one['onnxruntime']['p50_us']:.0f} us")
    for name, values in entry["per_keystroke"].items():
        if isinstance(values, dict):
            print(f"  per keystroke, {name}: p50 {values['p50_us']:.0f} us, p99 "
                  f"{values['p99_us']:.0f} us")
    for name, value in entry["throughput"].items():
        print(f"  {name}: {value:,.4g}")


if __name__ == "__main__":
    main()
