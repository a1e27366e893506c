"""The registry side of the workspace: open the registries, list the models, load the active
ones, and notice every publish, removal or moved alias (from this app, another terminal or
another worker of the same home).

A widget that is never shown, so that its thread workers and its timer live and die with
the app; it reports only through messages (``rnn_tui.tui.messages``), and the app decides
what to show. ``start()`` is called after the first paint: opening the registries and
importing the runtime must not compete with the first screen.
"""

from __future__ import annotations

from textual import work
from textual.widget import Widget
from textual.worker import get_current_worker

from rnn_tui.tui.messages import BookOpened, ModelLoaded, ModelsChanged, PreloadDone
from rnn_tui.tui.model_book import AUTO, DEFAULT_TOPICS, ModelBook, roles_of

POLL_S = 1.0


class RegistryWatcher(Widget):
    """Keeps a ``ModelBook`` and the model listing fresh; ``book`` is None until opened."""

    DEFAULT_CSS = "RegistryWatcher { display: none; }"

    def __init__(self, sentiment: str = AUTO, topics: str = DEFAULT_TOPICS, **kwargs) -> None:
        super().__init__(**kwargs)
        self._sentiment, self._topics = sentiment, topics
        self.book: ModelBook | None = None
        self.generation: str | None = None  # of the listing last read

    def start(self) -> None:
        self.set_interval(POLL_S, self._poll)
        self._open()

    @work(thread=True, group="registry-open")
    def _open(self) -> None:
        """Open the registries, list the models and preload the active ones."""
        from rnn_tui.registry import open_registries

        book = ModelBook(open_registries(), sentiment=self._sentiment, topics=self._topics)
        # Imports the runtime here: the event loop's first call would wait on the import
        # lock while this thread holds it.
        book.sentiment_ref("")
        self.book = book
        self.post_message(BookOpened(book))
        self._read_models(book)
        self._preload(book)

    def _read_models(self, book: ModelBook) -> None:
        generation = book.registries.generation()
        listing = book.registries.list_models()
        self.generation = generation
        self.post_message(ModelsChanged(list(listing), roles_of(listing),
                                        [str(warning) for warning in listing.warnings]))

    def _preload(self, book: ModelBook) -> None:
        """Load the models typing will need first, then the others, reporting each."""
        for ref in dict.fromkeys([book.sentiment_ref("")[0], book.topics,
                                  book.sentiment_ref("한")[0]]):
            if get_current_worker().is_cancelled:
                return
            result = book.try_load(ref)
            self.post_message(ModelLoaded(ref, result if isinstance(result, str) else None))
        self.post_message(PreloadDone())

    def _poll(self) -> None:
        if self.book is not None and self.generation is not None:
            self._check()

    @work(thread=True, exclusive=True, group="registry-poll")
    def _check(self) -> None:
        """Once a second: a publish, a removal or a moved alias updates the list and reloads
        what became stale (a cheap check when nothing changed)."""
        book = self.book
        if book is None or book.registries.generation() == self.generation:
            return
        book.refresh()
        self._read_models(book)
        self._preload(book)  # the stale ones, and any that were missing before

    @work(thread=True, group="load")
    def load(self, ref: str) -> None:
        """Load ``ref`` now (a model just pinned); reported as ``ModelLoaded``."""
        book = self.book
        if book is None:
            return
        result = book.try_load(ref) if ref != AUTO else None
        self.post_message(ModelLoaded(ref, result if isinstance(result, str) else None,
                                      pinned=True))
