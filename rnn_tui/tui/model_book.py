"""The models the workspace talks to: which one answers each role, loaded once, kept fresh.

Two roles take part in the chat: SENTIMENT (a binary text classifier) and TOPICS (a
multiclass text classifier). Sentiment is "auto" by default: Korean text (any Hangul) goes to
``nsmc-sentiment``, everything else to ``imdb-sentiment``, the rule ``rnn-tui predict`` uses
(``rnn_tui.infer.defaults``); the user may pin any model instead. Topics default to
``reuters-topics``.

Plain Python and thread-safe (the TUI calls it from worker threads); no Textual here.

>>> book = ModelBook(open_registries())                     # doctest: +SKIP
>>> book.verdicts("a wonderful, moving film")[SENTIMENT].label   # doctest: +SKIP
'positive'
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rnn_tui.errors import RnnTuiError, UserError
# rnn_tui.infer (NumPy and the runtime) is imported inside the methods: the first paint
# does not wait for it.
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Absent, Verdict

AUTO = "auto"
DEFAULT_TOPICS = "reuters-topics"


def role_of(card: dict[str, Any]) -> str | None:
    """The chat role a model can take: SENTIMENT, TOPICS, or None (sequence/regression).

    >>> role_of({"task": "binary", "input": {"kind": "text"}})
    'sentiment'
    """
    if (card.get("input") or {}).get("kind") != "text":  # numeric sequences read no text
        return None
    return {"binary": SENTIMENT, "multiclass": TOPICS}.get(card.get("task"))


def roles_of(summaries: list[Any]) -> dict[str, str | None]:
    """Model name -> role, for a registry listing (reads each listed version's card)."""
    from rnn_tui.registry import CARD_FILE, read_card

    roles: dict[str, str | None] = {}
    for summary in summaries:
        try:
            roles[summary.name] = role_of(read_card(summary.path / CARD_FILE))
        except (RnnTuiError, OSError, TypeError):  # went away or broke since the listing
            roles[summary.name] = None
    return roles


def _as_floats(values: Any) -> list[float]:
    return [float(value) for value in list(values)]


@dataclass
class LoadedModel:
    """One resolved version with its TensorFlow-free predictor and a live typing session.

    The predictor is thread-safe and the session locks itself, so workers share them.
    """

    ref: str  # what the user asked for ("imdb-sentiment", "my-model@best")
    version: Any  # rnn_tui.registry ModelVersion
    predictor: Any  # rnn_tui.infer Predictor
    session: Any  # rnn_tui.infer StreamingSession, for the live verdict


class ModelBook:
    """Active models per role and a cache of loaded predictors.

    Args:
        registries: an ``rnn_tui.registry.Registries`` (the user's and the shipped one).
        sentiment: a model reference to pin, or "auto" for the language rule.
        topics: the topic model's reference.
    """

    def __init__(self, registries: Any, sentiment: str = AUTO, topics: str = DEFAULT_TOPICS):
        self.registries = registries
        self.sentiment = sentiment
        self.topics = topics
        self._loaded: dict[str, LoadedModel] = {}
        self._failures: dict[str, str] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ choice
    def sentiment_ref(self, text: str) -> tuple[str, str]:
        """(reference, why) of the model that judges the sentiment of ``text``."""
        if self.sentiment != AUTO:
            return self.sentiment, "pinned"
        from rnn_tui.infer.defaults import default_model, is_korean

        return default_model(text), "auto: Korean" if is_korean(text) else "auto: English"

    def refs_for(self, text: str) -> dict[str, tuple[str, str]]:
        return {SENTIMENT: self.sentiment_ref(text), TOPICS: (self.topics, "")}

    def pin(self, ref: str) -> tuple[str, str]:
        """Make ``ref`` the active model for its role; returns (role, resolved ref).

        "auto" returns sentiment to the language rule. A model that cannot take part in the
        chat (a sequence model) is a UserError; an unknown one a NotFoundError.
        """
        if ref == AUTO:
            self.sentiment = AUTO
            return SENTIMENT, AUTO
        version = self.registries.resolve(ref)
        card = version.card
        role = role_of(card)
        if role is None:
            raise UserError(
                f"{version.ref} is a {card.get('task')} model on numeric sequences: it cannot "
                "read text (its /summary still works)")
        if role == SENTIMENT:
            self.sentiment = ref
        else:
            self.topics = ref
        return role, version.ref

    # ------------------------------------------------------------------ loading
    def load(self, ref: str) -> LoadedModel:
        """The loaded model for ``ref``, loading it on first use (slow: call from a worker)."""
        with self._lock:
            loaded = self._loaded.get(ref)
            if loaded is not None:
                return loaded
        version = self.registries.resolve(ref)
        from rnn_tui.infer import Predictor

        predictor = Predictor.load(version)
        loaded = LoadedModel(ref, version, predictor, predictor.session())
        with self._lock:
            self._loaded[ref] = loaded
            self._failures.pop(ref, None)
        return loaded

    def is_loaded(self, ref: str) -> bool:
        with self._lock:
            return ref in self._loaded

    def failure(self, ref: str) -> str | None:
        with self._lock:
            return self._failures.get(ref)

    def try_load(self, ref: str) -> LoadedModel | str:
        """The loaded model, or the one-line reason it cannot be loaded (remembered)."""
        failure = self.failure(ref)
        if failure is not None:
            return failure
        try:
            return self.load(ref)
        except RnnTuiError as error:
            message = str(error)
        except (OSError, ValueError, KeyError) as error:  # a damaged file
            message = f"cannot load {ref}: {type(error).__name__}: {error}"
        with self._lock:
            self._failures[ref] = message
        return message

    def refresh(self) -> None:
        """Forget what a registry change made stale (``load`` brings it back, fresh).

        A cached model whose reference now resolves to another version (a new ``latest``, a
        moved alias) is dropped, and so are remembered failures (the model may exist now).
        """
        stale: list[str] = []
        with self._lock:
            self._failures.clear()
            cached = dict(self._loaded)
        for ref, loaded in cached.items():
            try:
                current = self.registries.resolve(ref)
            except RnnTuiError:
                current = None
            if current != loaded.version:
                stale.append(ref)
        with self._lock:
            for ref in stale:
                self._loaded.pop(ref, None)

    # ------------------------------------------------------------------ judging
    def failures(self) -> dict[str, str]:
        """Reference -> why it cannot be used, for every model that failed to load."""
        with self._lock:
            return dict(self._failures)

    @staticmethod
    def explain(ref: str, message: str) -> str:
        """The full story of a failure; a missing default model says how to train it."""
        if message.startswith("no model named"):
            from rnn_tui.infer.defaults import how_to_train
            from rnn_tui.train.presets import PRESETS

            return f"{message}: train it with " + how_to_train(ref, PRESETS).replace(
                "rnn-tui train", "/train")
        return message

    @staticmethod
    def _missing_message(ref: str, message: str) -> str:
        """The short form for the live area (``explain`` has the long one)."""
        if message.startswith("no model named"):
            return f"{ref}: missing"
        return message.splitlines()[0]

    def readiness(self) -> dict[str, Absent]:
        """With nothing typed: the model(s) each role uses, and whether each is ready."""
        def state(ref: str) -> tuple[str, bool]:
            failure = self.failure(ref)
            if failure is not None:
                return self._missing_message(ref, failure), False
            with self._lock:
                loaded = self._loaded.get(ref)
            if loaded is not None:
                return f"{loaded.version.ref} ready", False
            return f"loading {ref}…", True

        if self.sentiment == AUTO:
            (english, busy_en), (korean, busy_ko) = state(self.sentiment_ref("")[0]), \
                state(self.sentiment_ref("한")[0])
            sentiment = Absent(SENTIMENT, f"English → {english}\nKorean → {korean}",
                               busy_en and busy_ko)
        else:
            message, busy = state(self.sentiment)
            sentiment = Absent(SENTIMENT, f"{message} (pinned)", busy)
        topics, busy = state(self.topics)
        return {SENTIMENT: sentiment, TOPICS: Absent(TOPICS, topics, busy)}

    def verdicts(self, text: str, *, live: bool = True, trace: bool = False
                 ) -> dict[str, Verdict | Absent]:
        """Each role's verdict on ``text``.

        ``live`` uses the streaming session (cheap per keystroke); otherwise a full predict.
        ``trace`` adds the word-by-word trace to the sentiment verdict.
        """
        results: dict[str, Verdict | Absent] = {}
        for role, (ref, why) in self.refs_for(text).items():
            loaded = self.try_load(ref)
            if isinstance(loaded, str):
                results[role] = Absent(role, self._missing_message(ref, loaded))
                continue
            predictor = loaded.predictor
            ids = predictor.text_ids(text)  # tokenized once per keystroke
            if text.strip() and not len(ids):
                # e.g. Korean text to an English topic model: nothing to classify (its
                # pooling over no words would be 0/0)
                results[role] = Absent(role, f"no words {ref} can read in this text")
                continue
            if live:
                probabilities = _as_floats(loaded.session.update_ids(ids))
            else:
                probabilities = _as_floats(predictor.predict([text])[0])
            steps = []
            if trace:  # sentiment: the word-by-word chart; topics: the top topic's
                steps = [(token, _as_floats(probs)) for token, probs in predictor.trace(text)]
            results[role] = Verdict(role, loaded.version.ref, list(predictor.labels),
                                    probabilities, why, steps)
        return results
