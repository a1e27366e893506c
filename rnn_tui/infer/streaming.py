"""Streaming: keep the recurrent state per token position, compute only what changed.

Placeholder: the session lands in the next commit.
"""

from __future__ import annotations

from typing import Any

CAUSAL_OPS = {"embedding", "identity", "activation", "dense"}


def streaming_support(graph: dict[str, Any]) -> tuple[bool, str]:
    """Whether a graph can stream (see the module docstring), and why (not).

    >>> streaming_support({"inputs": [{"tensor": "t0"}], "nodes": [
    ...     {"name": "bilstm_1", "op": "bidirectional", "inputs": ["t0"], "output": "t1"}]})
    (False, "layer 'bilstm_1' (Bidirectional) also reads the text backwards: every update recomputes it")
    """
    kinds = {graph["inputs"][0]["tensor"]: "seq"}
    embedded = False
    for node in graph["nodes"]:
        op, name = node["op"], node["name"]
        incoming = {kinds.get(tensor) for tensor in node["inputs"]}
        config = node.get("config", {})
        if op == "embedding":
            embedded = True
        if incoming == {"vec"}:
            if op in CAUSAL_OPS or op == "concatenate":
                kinds[node["output"]] = "vec"
                continue
            return False, f"layer {name!r} ({op}) is not supported after pooling"
        if len(incoming) > 1:
            return False, f"layer {name!r} joins sequences with vectors"
        if op in CAUSAL_OPS or op == "concatenate":
            kinds[node["output"]] = "seq"
        elif op == "rnn":
            if config.get("go_backwards"):
                return False, (f"layer {name!r} reads the text backwards: every update "
                               "recomputes it")
            kinds[node["output"]] = "seq" if config.get("return_sequences") else "vec"
        elif op == "bidirectional":
            return False, (f"layer {name!r} (Bidirectional) also reads the text backwards: "
                           "every update recomputes it")
        elif op in ("global_max_pooling1d", "global_average_pooling1d"):
            if config.get("keepdims"):
                return False, f"layer {name!r} keeps the steps axis"
            kinds[node["output"]] = "vec"
        elif op in ("conv1d", "max_pooling1d"):
            label = "Conv1D" if op == "conv1d" else "MaxPooling1D"
            return False, (f"layer {name!r} ({label}) mixes neighbouring tokens: every update "
                           "recomputes the text")
        elif op == "flatten":
            return False, (f"layer {name!r} (Flatten) weighs every position separately: every "
                           "update recomputes the text")
        else:
            return False, f"layer {name!r} ({op}) cannot stream"
    if not embedded:
        return False, "the model reads numeric sequences, not text"
    if kinds.get(graph["outputs"][0]) != "vec" if "outputs" in graph else False:
        return False, "the model's output is a sequence"
    return True, "unidirectional: each new token costs one step per recurrent layer"
