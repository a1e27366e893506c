"""``preprocess.json``: how another program turns a text into the exported model's inputs and
its outputs into labels, with a worked example to check itself against.

```json
{"format": "rnn-tui-preprocess", "format_version": 1, "model": "imdb-sentiment:1",
 "artifact": "model.onnx", "artifact_format": "onnx", "task": "binary",
 "labels": ["negative", "positive"], "language": "en",
 "inputs": [{"name": "tokens", "n": 1, "vocabulary": "vocabulary.json", "dtype": "int32"},
            {"name": "ngrams2", "n": 2, "vocabulary": "vocabulary-ngram2.json", ...}],
 "sequence": {"maxlen": 600, "padding": "post", "truncating": "pre", "pad_id": 0,
              "fixed_length": false, "batch": null},
 "tokenizer": {...the card's vocabulary section: level, lower, filters, pattern, ...},
 "output": {"kind": "sigmoid", "columns": 1, "meaning": "..."},
 "steps": ["...", "..."],
 "example": {"text": "...", "ids": {"tokens": [...]}, "outputs": [...],
             "probabilities": {"negative": 0.1, "positive": 0.9}}}
```
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "rnn-tui-preprocess"
FORMAT_VERSION = 1
EXAMPLES = {"ko": "배우들 연기가 정말 좋았고 마지막 장면에서 울었어요",
            "en": "A wonderful, moving film: the cast is great and the story never drags."}


def copy_vocabularies(version: Any, folder: Path) -> list[str]:
    """The version's vocabulary files, copied beside the artifact; their names."""
    names = sorted(path.name for path in version.path.glob("vocabulary*.json"))
    for name in names:
        shutil.copyfile(version.file(name), folder / name)
    return names


def model_inputs(predictor: Any, texts: list[str], names: list[str]) -> list[np.ndarray]:
    """The ids of texts as the model's inputs (int32, padded to maxlen), in its input order.

    >>> model_inputs(predictor, ["a fine film"], ["tokens"])[0].shape  # doctest: +SKIP
    (1, 400)
    """
    padded = predictor.pad(predictor.texts_ids(texts)).astype(np.int32)
    if padded.ndim == 2:
        return [padded]
    streams = predictor.features.names
    return [np.ascontiguousarray(padded[..., streams.index(name)]) for name in names]


def describe(version: Any, predictor: Any, model: Any, fmt: str, artifact: str,
             vocabularies: list[str]) -> dict[str, Any]:
    card = version.card
    spec = predictor.input
    names = [tensor.name for tensor in model.inputs]
    fixed = fmt == "tflite"
    description: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "model": version.ref,
        "artifact": artifact, "artifact_format": fmt, "task": predictor.task,
        "labels": predictor.labels, "language": predictor.language,
    }
    if spec.kind != "text":
        description.update({
            "inputs": [{"name": names[0], "dtype": "float32",
                        "shape": [None, spec.timesteps, spec.channels]}],
            "sequence": {"timesteps": spec.timesteps, "channels": spec.channels,
                         "fixed_length": True, "batch": 1 if fixed else None},
            "output": _output(predictor),
            "steps": ["feed float32 arrays (batch, timesteps, channels) as in the card's "
                      "dataset; the output is the predicted value"]})
        return description
    features = (card.get("input") or {}).get("features") or [
        {"name": "tokens", "n": 1, "file": "vocabulary.json"}]
    by_name = {entry["name"]: entry for entry in features}
    description.update({
        "inputs": [{"name": name, "n": by_name[name]["n"],
                    "vocabulary": by_name[name]["file"], "dtype": "int32"}
                   for name in names],
        "vocabularies": vocabularies,
        "sequence": {"maxlen": spec.maxlen, "padding": spec.padding,
                     "truncating": spec.truncating, "pad_id": 0, "fixed_length": fixed,
                     "batch": 1 if fixed else None},
        "tokenizer": card.get("vocabulary") or {},
        "output": _output(predictor),
        "steps": _steps(spec, fixed, len(names) > 1),
    })
    text = EXAMPLES.get(predictor.language or "en", EXAMPLES["en"])
    inputs = model_inputs(predictor, [text], names)
    outputs = np.asarray(model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0))
    probabilities = predictor.probabilities(outputs.astype(np.float32))[0]
    ids = predictor.texts_ids([text])[0]
    ids = np.asarray(ids)
    description["example"] = {
        "text": text,
        "ids": {name: (ids[:, predictor.features.names.index(name)] if ids.ndim == 2
                       else ids).tolist() for name in names},
        "outputs": outputs[0].tolist(),
        "probabilities": dict(zip(predictor.labels, (float(p) for p in probabilities))),
    }
    return description


def _output(predictor: Any) -> dict[str, Any]:
    if predictor.task == "regression":
        return {"kind": "linear", "columns": predictor.runtime.output_width,
                "meaning": "the predicted value"}
    if predictor.sigmoid_binary:
        return {"kind": "sigmoid", "columns": 1,
                "meaning": f"P({predictor.labels[1]}); P({predictor.labels[0]}) = 1 - it"}
    return {"kind": "softmax", "columns": predictor.num_classes,
            "meaning": "one probability per label, in the order of labels"}


def _steps(spec: Any, fixed: bool, streams: bool) -> list[str]:
    keep = "last" if spec.truncating == "pre" else "first"
    side = "after" if spec.padding == "post" else "before"
    steps = [
        "tokenize the text with the settings of the vocabulary file (rnn-tui's Vocabulary: "
        "Keras Tokenizer semantics; `rnn_tui.text.Vocabulary.load(path).tokenize(text)`)",
        "map each token to its id in the vocabulary's token list (id = position + 1; a token "
        "outside the first num_words ids, or unknown, becomes the OOV token's id)",
    ]
    if streams:
        steps.append("for each n-gram input: the token ending at each position joined with "
                     "the n-1 before it by a space, padded at the start with <s>, mapped "
                     "with that input's vocabulary file")
    steps.append(f"keep the {keep} {spec.maxlen} ids" if spec.maxlen else "keep every id")
    if spec.maxlen:
        steps.append(f"pad with 0 {side} the ids to {spec.maxlen}"
                     + (" (this artifact takes exactly (1, maxlen): one text per call)"
                        if fixed else ""))
    steps.append("compare with `example`: the same text must give the same ids and outputs")
    return steps


def write(path: Path, description: dict[str, Any]) -> None:
    path.write_text(json.dumps(description, ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
