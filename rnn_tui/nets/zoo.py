"""Named architectures for ``--arch NAME``: each is a spec template with a few knobs.

>>> from rnn_tui.nets.spec import to_compact
>>> to_compact(named_spec("stacked-lstm", units=[64, 32], embedding_dim=32))
'emb:32 lstm:64 lstm:32'
>>> to_compact(named_spec("gru", input_kind="sequence", units=30, layers=2))
'gru:30 gru:30'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnn_tui.errors import UserError
from rnn_tui.nets.spec import normalize_spec


@dataclass(frozen=True)
class NamedArch:
    """One entry of the zoo: its recurrent kind, shape and defaults."""

    description: str
    recurrent: str | None = None  # simplernn, lstm, gru, or None
    layers: int = 1
    units: int = 64
    embedding_dim: int = 64
    bidirectional: bool = False
    style: str = "rnn"  # rnn, flatten, onehot, conv
    dropout: float = 0.0


NAMED_ARCHS: dict[str, NamedArch] = {
    "simplernn": NamedArch("Embedding + SimpleRNN", "simplernn", units=32),
    "lstm": NamedArch("Embedding + LSTM", "lstm"),
    "gru": NamedArch("Embedding + GRU", "gru"),
    "bilstm": NamedArch("Embedding + Bidirectional LSTM", "lstm", bidirectional=True),
    "bigru": NamedArch("Embedding + Bidirectional GRU", "gru", bidirectional=True),
    "stacked-simplernn": NamedArch("Embedding + 2 SimpleRNN", "simplernn", layers=2, units=32,
                                   embedding_dim=32),
    "stacked-lstm": NamedArch("Embedding + 2 LSTM", "lstm", layers=2),
    "stacked-gru": NamedArch("Embedding + 2 GRU", "gru", layers=2),
    "flatten": NamedArch("Embedding + Flatten (the dense baseline)", style="flatten",
                         embedding_dim=32),
    "onehot-simplernn": NamedArch("one-hot tokens + SimpleRNN", "simplernn", units=8,
                                  style="onehot"),
    "conv-lstm": NamedArch("Embedding + Dropout + Conv1D + MaxPooling1D + LSTM", "lstm",
                           units=100, embedding_dim=100, style="conv", dropout=0.5),
}


def arch_names() -> list[str]:
    return list(NAMED_ARCHS)


def _unit_list(units: int | list[int] | None, layers: int | None, arch: NamedArch) -> list[int]:
    if isinstance(units, (list, tuple)):
        unit_list = [int(u) for u in units]
        if layers is not None and layers != len(unit_list):
            if len(unit_list) != 1:
                raise UserError(f"--units lists {len(unit_list)} sizes but --layers is {layers}")
            unit_list = unit_list * layers
        return unit_list
    count = layers if layers is not None else arch.layers
    if count < 1:
        raise UserError(f"--layers must be at least 1, not {count}")
    return [int(units if units is not None else arch.units)] * count


def named_spec(
    name: str,
    *,
    input_kind: str = "tokens",
    units: int | list[int] | None = None,
    layers: int | None = None,
    embedding_dim: int | None = None,
    dropout: float | None = None,
    recurrent_dropout: float | None = None,
    spatial_dropout: float | None = None,
    bidirectional: bool | None = None,
    pool: str | None = None,
    dense: int | None = None,
    mask_zero: bool | str = "auto",
    vectors: str | None = None,
    vectors_trainable: bool = True,
    head: str | dict | None = None,
    ngram_dim: int | None = None,
) -> dict[str, Any]:
    """The normalised spec of a named architecture with the given knobs.

    Args:
        name: a key of NAMED_ARCHS.
        input_kind: "tokens" (an Embedding in front) or "sequence" (numeric input, no
            Embedding; for the synthetic tasks).
        units: units per recurrent layer: one number for all, or a list (one per layer).
        layers: how many recurrent layers (stacked ones return sequences automatically).
        embedding_dim: the Embedding's output size.
        dropout: input dropout of each recurrent layer (conv-lstm: the Dropout layer's rate).
        recurrent_dropout: recurrent-state dropout (forces the slow kernel on a GPU).
        spatial_dropout: a SpatialDropout1D after the Embedding.
        bidirectional: wrap the recurrent layers in Bidirectional.
        pool: "max", "average", "max+average" (or with "+last", the final state too) over
            the last recurrent layer's outputs.
        dense: a hidden Dense(relu) of this size before the head.
        mask_zero: the Embedding's mask ("auto": mask when padding is post).
        vectors: a pretrained word-vector file for the Embedding.
        vectors_trainable: fine-tune the pretrained vectors (False freezes them).
        head: override the task's head ("softmax" gives Dense(2, softmax) for binary).
        ngram_dim: an Embedding of this size for the n-gram features (``--ngrams``), after
            the word embedding (``ngram-emb:DIM``).
    """
    arch = NAMED_ARCHS.get(name)
    if arch is None:
        from rnn_tui.suggestions import close_matches

        raise UserError(f"unknown architecture {name!r}{close_matches(name, NAMED_ARCHS)} "
                        f"(known: {', '.join(NAMED_ARCHS)})")
    if ngram_dim and (input_kind != "tokens" or arch.style == "onehot"):
        raise UserError(f"--arch {name} has no word embedding for n-gram features to join")
    if input_kind == "sequence" and arch.style != "rnn":
        raise UserError(f"--arch {name} reads token ids; numeric sequences need one of "
                        "simplernn, lstm, gru, bilstm, bigru or a stacked-* architecture")
    body: list[dict[str, Any]] = []
    if input_kind == "tokens":
        if arch.style == "onehot":
            body.append({"type": "onehot"})
        else:
            embedding: dict[str, Any] = {
                "type": "embedding",
                "dim": embedding_dim if embedding_dim is not None else arch.embedding_dim,
                "mask_zero": mask_zero,
                "trainable": vectors_trainable,
            }
            if vectors:
                embedding["vectors"] = vectors
            body.append(embedding)
            if ngram_dim:
                body.append({"type": "ngram_embedding", "dim": ngram_dim})
        if spatial_dropout:
            body.append({"type": "spatial_dropout", "rate": spatial_dropout})
    if arch.style == "flatten":
        body.append({"type": "flatten"})
    else:
        if arch.style == "conv":
            rate = dropout if dropout is not None else arch.dropout
            if rate:
                body.append({"type": "dropout", "rate": rate})
            body.append({"type": "conv1d", "filters": 64, "kernel_size": 5})
            body.append({"type": "maxpool1d", "pool_size": 4})
            layer_dropout = 0.0
        else:
            layer_dropout = dropout if dropout is not None else arch.dropout
        bi = arch.bidirectional if bidirectional is None else bidirectional
        for size in _unit_list(units, layers, arch):
            body.append({"type": arch.recurrent, "units": size, "dropout": layer_dropout,
                         "recurrent_dropout": recurrent_dropout or 0.0, "bidirectional": bi})
        if pool:
            body.append({"type": "pool", "mode": pool})
    if dense:
        body.append({"type": "dense", "units": dense})
    spec: dict[str, Any] = {"layers": body}
    if head is not None:
        spec["head"] = head
    return normalize_spec(spec)
