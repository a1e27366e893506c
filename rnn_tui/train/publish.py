"""Publishing a trained model: model.keras (weights and architecture, no optimizer state),
vocabulary.json, runtime.npz and the card, as one new registry version; the "best" alias
moves to it when its test score beats the old best.

Everything is written into the registry's staging folder first and becomes visible in one
rename (``rnn_tui.registry``), so readers never see half a version. The "best" decision is
made under the name's lock, after the rename, so two trainings finishing at once cannot both
claim it. A run killed after its version became visible but before its run folder was
removed is recognised when it is resumed (same start, configuration, history and epoch
times): it is not published a second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rnn_tui.errors import NotFoundError
from rnn_tui.text import Vocabulary
from rnn_tui.train.card_builder import better_than
from rnn_tui.train.events import Event, Note

BEST_ALIAS = "best"


def export_runtime_weights(model: Any, path: Any, *, float16: bool = False
                           ) -> dict[str, Any]:
    """runtime.npz for the TensorFlow-free runtime (``rnn_tui.infer.export``); returns what
    the exporter reports (recorded in the card)."""
    from rnn_tui.infer.export import export_runtime

    return dict(export_runtime(model, path, float16=float16))


def inference_copy(model: Any) -> Any:
    """The model without its optimizer: same layers, names and weights, uncompiled.

    A published model is for prediction; Adam's two moment slots would triple model.keras
    (72 MB instead of 24 MB for the NSMC tutorial's 6 M parameters). Built from the model's
    config, not with ``clone_model``: Keras 3.15's ``clone_model`` compiles the clone like
    the original, and its fresh optimizer's slots were saved all the same.
    """
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


_RUN_IDENTITY = ("started", "config", "epoch_seconds")


def _run_identity(card: dict[str, Any]) -> tuple[Any, ...] | None:
    """What tells one training run from any other: its first start, its configuration, its
    per-epoch times (measured, so two runs never share them) and its history."""
    training = card.get("training")
    if not isinstance(training, dict) or not training.get("started") \
            or not training.get("epoch_seconds"):
        return None
    identity = [*(training.get(key) for key in _RUN_IDENTITY), card.get("history")]
    # as card.json holds it (tuples become lists, NaN stays NaN)
    return tuple(json.loads(json.dumps(identity)))


def already_published(registries: Any, name: str, card: dict[str, Any]) -> Any:
    """The version this very run was published as before an interruption, or None.

    >>> already_published(open_registries(), "demo", card)      # doctest: +SKIP
    ModelVersion('demo:3', ...)
    """
    identity = _run_identity(card)
    if identity is None:
        return None
    from rnn_tui.errors import DataError

    registry = registries.user
    for version in reversed(registry.list_versions(name)):
        try:
            if _run_identity(version.card) == identity:
                return version
        except (DataError, NotFoundError):
            continue
    return None


def publish_model(
    name: str,
    model: Any,
    vocabulary: Vocabulary | None,
    card: dict[str, Any],
    *,
    registries: Any = None,
    on_event: Callable[[Event], None] | None = None,
    features: Any = None,
    float16: bool = False,
    runtime_check: Callable[[Any], dict[str, Any]] | None = None,
    claim_best: bool = True,
) -> tuple[Any, list[str]]:
    """Publish one version; returns ``(ModelVersion, aliases set)``.

    ``features`` (``rnn_tui.text.features.TextFeatures``) writes every stream's vocabulary
    (vocabulary.json, vocabulary-ngram2.json ...) instead of ``vocabulary`` alone;
    ``float16`` stores the weights of model.keras and runtime.npz as float16;
    ``runtime_check(path)`` measures the written runtime (its result becomes the card's
    ``runtime.check``); ``claim_best=False`` leaves the "best" alias where it is (a taught
    version moves an alias only when its user asks).
    """
    if registries is None:
        from rnn_tui.registry import open_registries

        registries = open_registries()
    emit = on_event or (lambda event: None)

    def beats(current: dict[str, Any] | None) -> bool:
        return better_than(card, current)

    earlier = already_published(registries, name, card)
    if earlier is not None:
        emit(Note(text=f"this run was published as {earlier.ref} before it was interrupted; "
                       "not publishing it again", topic="publish"))
        claimed = claim_best and registries.user.claim_alias(name, BEST_ALIAS,
                                                             earlier.version, beats)
        return earlier, [BEST_ALIAS] if claimed else []
    with registries.staging(name) as stage:
        inference_copy(model).save(str(stage.path / "model.keras"))
        if float16:
            from rnn_tui.registry.keras_io import halve_keras_weights

            # The same float16 weights as runtime.npz: Keras and the runtime agree exactly.
            halve_keras_weights(stage.path / "model.keras")
        if features is not None:
            features.save(stage.path)
        elif vocabulary is not None:
            vocabulary.save(stage.path / "vocabulary.json")
        runtime = export_runtime_weights(model, stage.path / "runtime.npz", float16=float16)
        card["runtime"] = runtime
        if runtime_check is not None:
            runtime["check"] = runtime_check(stage.path / "runtime.npz")
        # Decided under the registry's lock, against whatever is best at that moment.
        version = stage.publish(card, claims={BEST_ALIAS: beats} if claim_best else {})
    return version, list(stage.claimed)
