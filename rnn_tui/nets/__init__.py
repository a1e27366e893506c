"""The architecture zoo: JSON-able specs -> Keras models; pretrained word vectors.

Nothing here imports TensorFlow at module level; ``build_model`` reaches Keras through
``rnn_tui.backend`` when it is called.

>>> spec = resolve_arch("lstm", {"units": 32})
>>> to_compact(spec)
'emb:64 lstm:32'
"""

from __future__ import annotations

from typing import Any

from rnn_tui.errors import UserError
from rnn_tui.nets.build import (
    Head,
    ModelInput,
    build_model,
    dynamic_padding_exact,
    generic_kernel_reasons,
    mask_zero_for,
    resolve_head,
)
from rnn_tui.nets.spec import (
    COMPACT_HELP,
    load_spec_file,
    ngram_assignment,
    normalize_spec,
    parse_compact,
    to_compact,
)
from rnn_tui.nets.vectors import PretrainedVectors, load_embedding_matrix, vector_dim
from rnn_tui.nets.zoo import NAMED_ARCHS, arch_names, named_spec

__all__ = [
    "COMPACT_HELP", "Head", "ModelInput", "NAMED_ARCHS", "PretrainedVectors", "arch_names",
    "build_model", "dynamic_padding_exact", "generic_kernel_reasons", "load_embedding_matrix",
    "load_spec_file", "ngram_assignment",
    "mask_zero_for", "named_spec", "normalize_spec", "parse_compact", "resolve_arch",
    "resolve_head", "to_compact", "vector_dim",
]


def resolve_arch(
    arch: str | dict | list | None,
    options: dict[str, Any] | None = None,
    *,
    input_kind: str = "tokens",
) -> dict[str, Any]:
    """The normalised spec for ``--arch``: a named architecture (with knob ``options``), a
    compact string, or a spec dict (from ``--arch-file``).

    Knobs (units, layers, dropout ...) only apply to named architectures; giving them with a
    compact string or a spec is an error rather than being silently ignored.
    """
    options = {key: value for key, value in (options or {}).items() if value is not None}
    if arch is None:
        arch = "lstm"
    if isinstance(arch, str) and arch in NAMED_ARCHS:
        return named_spec(arch, input_kind=input_kind, **options)
    if options:
        flags = ", ".join("--" + key.replace("_", "-") for key in sorted(options))
        raise UserError(f"{flags} only apply to a named architecture "
                        f"({', '.join(NAMED_ARCHS)}); write them into the spec instead")
    if isinstance(arch, str) and ":" not in arch and " " not in arch.strip() \
            and arch.strip() not in ("onehot", "flatten", "bag"):
        from rnn_tui.suggestions import close_matches

        raise UserError(f"unknown architecture {arch!r}{close_matches(arch, NAMED_ARCHS)} "
                        f"(named: {', '.join(NAMED_ARCHS)}; or a compact spec such as "
                        "'emb:64 lstm:64')")
    return normalize_spec(arch)
