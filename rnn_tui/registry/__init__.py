"""The model registry: immutable versions, aliases, tags and cards, published atomically.

Importing this package never imports TensorFlow; only ``load_keras_model`` does, inside the
call. Importing an outside Keras model is ``rnn_tui.infer.importing.import_keras``.

>>> from rnn_tui.registry import open_registries
>>> registries = open_registries()                                   # doctest: +SKIP
>>> with registries.staging("demo") as stage:                        # doctest: +SKIP
...     model.save(stage.path / "model.keras")
...     version = stage.publish({"task": "binary", "labels": ["neg", "pos"]})
>>> registries.resolve("demo@latest").card["version"]                # doctest: +SKIP
1
"""

from rnn_tui.registry.card import (
    CARD_FILE,
    CARD_FORMAT,
    CARD_FORMAT_VERSION,
    TASKS,
    main_metric,
    read_card,
    sha256_file,
    validate_card,
)
from rnn_tui.registry.keras_io import describe_keras_model, load_keras_model
from rnn_tui.registry.names import ModelRef, check_alias, check_name, check_tag
from rnn_tui.registry.registries import Registries, default_registry, open_registries
from rnn_tui.registry.folder import Registry, Stage
from rnn_tui.registry.versions import ModelList, ModelSummary, ModelVersion, RegistryWarning

__all__ = [
    "CARD_FILE", "CARD_FORMAT", "CARD_FORMAT_VERSION", "TASKS",
    "ModelList", "ModelRef", "ModelSummary", "ModelVersion", "Registries", "Registry",
    "RegistryWarning", "Stage",
    "check_alias", "check_name", "check_tag", "default_registry", "describe_keras_model",
    "load_keras_model", "main_metric", "open_registries",
    "read_card", "sha256_file", "validate_card",
]
