"""What a server is told at start: the models, the limits on a request, the token file.

Settings travel to uvicorn's worker processes as JSON in ``RNN_TUI_SERVE_SETTINGS`` (each
worker builds its app from them: ``rnn_tui.serve.app:app_from_environment``). The token itself
never goes into the environment: each worker reads the file.

>>> ServeSettings.from_json(ServeSettings(refs=["imdb-sentiment"]).to_json()).refs
['imdb-sentiment']
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from rnn_tui.errors import UserError

ENVIRONMENT_KEY = "RNN_TUI_SERVE_SETTINGS"
TOKEN_MAX_BYTES = 4096
TOKEN_MIN_CHARS = 16


@dataclass
class ServeSettings:
    """Args:
        refs: the models served (``NAME``, ``NAME:3``, ``NAME@ALIAS``); empty: all.
        max_body_bytes: a request body larger than this is refused (413).
        max_texts: texts per request at most (422 beyond).
        max_text_chars: characters per text at most (422 beyond).
        token_file: a file holding the bearer token every /v1 and /metrics request must
            carry; None: no token.
        check_interval: seconds between two looks for a moved alias or a new version.
        batch_size: texts run through the model together.
        batch_wait_ms: with concurrent clients, how long a short request may wait for
            others to join its model call (rnn_tui/serve/batching.py); 0: never.
    """

    refs: list[str] = field(default_factory=list)
    max_body_bytes: int = 4 * 1024 * 1024
    max_texts: int = 1024
    max_text_chars: int = 100_000
    token_file: str | None = None
    check_interval: float = 0.2
    batch_size: int = 128
    batch_wait_ms: float = 6.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        data = json.loads(text)
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    @classmethod
    def from_environment(cls) -> ServeSettings:
        text = os.environ.get(ENVIRONMENT_KEY)
        return cls.from_json(text) if text else cls()

    def read_token(self) -> str | None:
        """The bearer token from ``token_file`` (surrounding whitespace dropped)."""
        if self.token_file is None:
            return None
        path = Path(self.token_file)
        try:
            with open(path, "rb") as handle:
                raw = handle.read(TOKEN_MAX_BYTES + 1)
        except OSError as error:
            raise UserError(f"cannot read the token file {path}: "
                            f"{error.strerror or error}") from None
        if len(raw) > TOKEN_MAX_BYTES:
            raise UserError(f"the token file {path} holds more than {TOKEN_MAX_BYTES} bytes")
        try:
            token = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise UserError(f"the token file {path} is not UTF-8 text") from None
        if len(token) < TOKEN_MIN_CHARS or any(char.isspace() or not char.isprintable()
                                               for char in token):
            raise UserError(f"the token in {path} must be one word of at least "
                            f"{TOKEN_MIN_CHARS} printable characters (e.g. `openssl rand "
                            "-hex 32 > FILE`)")
        return token
