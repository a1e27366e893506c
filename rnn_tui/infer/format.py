"""The ``runtime.npz`` file: a layer graph as JSON plus the weight arrays, nothing pickled.

Layout of the archive (``numpy.savez``; loads with ``allow_pickle=False``):

- ``graph.json``: the graph as UTF-8 JSON bytes in a uint8 array (see below);
- one array per weight, named ``<node name>/<weight>`` (``lstm_1/kernel``), stored as float32
  or, when exported with ``float16=True``, as float16 (the runtime computes in float32).

The graph::

    {"format": "rnn-tui-runtime", "format_version": 1, "dtype": "float32",
     "inputs": [{"name": "tokens", "tensor": "t0", "dtype": "int32", "shape": [null, 400]}],
     "outputs": ["t5"],
     "nodes": [{"name": "embedding", "op": "embedding", "inputs": ["t0"], "output": "t1",
                "mask": true, "config": {"input_dim": 20000, "output_dim": 128,
                "mask_zero": true}, "weights": {"embeddings": "embedding/embeddings"}}, ...]}

``nodes`` are in topological order; ``mask`` records whether Keras attaches a mask to the
node's output (the runtime derives the same and the exporter checks that they agree). A
model with n-gram features has one input per stream ("tokens", "ngrams2" ...), each read by
an Embedding; a recurrent node with ``return_state`` lists its final-state tensors under
``"states"`` (h, and c for an LSTM). Both are optional additions to version 1: a graph
without them is read exactly as before, and an older rnn-tui refuses a graph that has them
(more than one input, or a tensor read before it exists) instead of misreading it. So is
the ``math`` op (a Keras op such as ``keras.ops.log``, ``infer/layers/arithmetic.py``): an
older rnn-tui refuses it as an unknown op.

>>> graph = {"format": FORMAT, "format_version": FORMAT_VERSION, "dtype": "float32",
...          "inputs": [], "outputs": [], "nodes": []}
>>> decode_graph(encode_graph(graph)) == graph
True
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.errors import DataError
from rnn_tui.infer.layers import OPS  # op -> its weights (bias-like ones are optional)

FORMAT = "rnn-tui-runtime"
FORMAT_VERSION = 1
RUNTIME_FILE = "runtime.npz"
GRAPH_KEY = "graph.json"

def encode_graph(graph: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(json.dumps(graph, ensure_ascii=False).encode("utf-8"), np.uint8)


def decode_graph(array: np.ndarray) -> dict[str, Any]:
    return json.loads(array.tobytes().decode("utf-8"))


def write_runtime(path: str | Path, graph: dict[str, Any], weights: dict[str, np.ndarray],
                  *, float16: bool = False) -> int:
    """Write ``runtime.npz`` atomically; returns its size in bytes."""
    from rnn_tui.fileio import atomic_path

    dtype = np.float16 if float16 else np.float32
    graph = dict(graph, dtype="float16" if float16 else "float32")
    arrays = {GRAPH_KEY: encode_graph(graph)}
    for key, value in weights.items():
        if key == GRAPH_KEY:
            raise ValueError(f"a weight may not be called {GRAPH_KEY}")
        arrays[key] = np.ascontiguousarray(value, dtype=dtype)
    path = Path(path)
    with atomic_path(path) as temp:
        with open(temp, "wb") as handle:  # a file object: savez must not append ".npz"
            np.savez(handle, **arrays)
    return path.stat().st_size


def read_runtime(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check ``runtime.npz``: (graph, float32 weights). Problems are DataErrors."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if GRAPH_KEY not in archive.files:
                raise DataError("not an rnn-tui runtime file (no graph.json inside)", path)
            graph = decode_graph(archive[GRAPH_KEY])
            weights = {key: np.ascontiguousarray(archive[key], dtype=np.float32)
                       for key in archive.files if key != GRAPH_KEY}
    except FileNotFoundError:
        raise DataError("runtime file not found", path) from None
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError, EOFError) as error:
        raise DataError(f"cannot read the runtime file: {error}", path) from None
    except RecursionError:
        raise DataError("cannot read the runtime file: its graph is nested too deeply",
                        path) from None
    try:
        check_graph(graph, weights)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
        # A hand-edited or damaged graph.json can hold values of any type.
        raise DataError(f"not a usable runtime graph: {error}", path) from None
    return graph, weights


def check_graph(graph: Any, weights: dict[str, np.ndarray]) -> None:
    """Raise ValueError with the first problem in a graph (shape checks are the runtime's)."""
    if not isinstance(graph, dict) or graph.get("format") != FORMAT:
        raise ValueError("the graph's format is not rnn-tui-runtime")
    if graph.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format_version {graph.get('format_version')!r} is not supported: "
                         f"this rnn-tui reads version {FORMAT_VERSION}")
    inputs, outputs, nodes = graph.get("inputs"), graph.get("outputs"), graph.get("nodes")
    if not isinstance(inputs, list) or not inputs or not all(
            isinstance(item, dict) for item in inputs):
        raise ValueError("the graph needs its inputs (a list of objects)")
    if not isinstance(outputs, list) or len(outputs) != 1:
        raise ValueError("the runtime supports models with exactly one output")
    if not isinstance(nodes, list):
        raise ValueError("'nodes' must be a list")
    known = {item.get("tensor") for item in inputs}
    for node in nodes:
        if not isinstance(node, dict):
            raise ValueError("every node must be an object")
        op = node.get("op")
        if not isinstance(op, str) or op not in OPS:
            raise ValueError(f"node {node.get('name')!r} has an unknown op {op!r}")
        for tensor in node.get("inputs", []):
            if tensor not in known:
                raise ValueError(f"node {node.get('name')!r} reads {tensor!r} before it exists")
        known.add(node.get("output"))
        states = node.get("states", [])
        if not isinstance(states, list) or (states and op != "rnn"):
            raise ValueError(f"node {node.get('name')!r}: only a recurrent layer has states")
        known.update(states)
        required, optional = OPS[op].required, OPS[op].optional
        named = node.get("weights", {})
        for role in required:
            if named.get(role) not in weights:
                raise ValueError(f"node {node.get('name')!r} lacks its {role} weights")
        for role in optional:
            if role in named and named[role] not in weights:
                raise ValueError(f"node {node.get('name')!r} lacks its {role} weights")
    if outputs[0] not in known:
        raise ValueError(f"the output {outputs[0]!r} is never computed")
