"""Channel secrets sealed with ``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256),
so the database holds only ciphertext.

The key comes from ``SHIPWISE_SECRET_KEY`` (a Fernet key: ``python -c "from
cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``). Without
it, a SQLite server makes one key file once, beside its database (``secret.key``, mode
0600), and uses it from then on: a copy of the database file alone reveals nothing, a
copy of the whole data directory does (set the variable to keep the key elsewhere).
PostgreSQL serves several instances that must share the key, so there is no file:
without the variable, storing a secret is refused with the way out in words.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shipwise.server.ports import SecretsUnavailable

KEY_VARIABLE = "SHIPWISE_SECRET_KEY"
KEY_FILE = "secret.key"
NO_KEY = (
    f"this server has no key to encrypt channel secrets with: set {KEY_VARIABLE} to a "
    'Fernet key (python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())") on every instance and restart'
)


class FernetBox:
    """The ``SecretBox`` port over one Fernet key, or over none (every seal refused)."""

    def __init__(self, key: bytes | None, origin: str) -> None:
        self._fernet = Fernet(key) if key is not None else None
        self.origin = origin  # where the key came from, for the start-up log

    def __repr__(self) -> str:  # never the key
        return f"FernetBox(origin={self.origin!r})"

    def seal(self, plain: str) -> str:
        if self._fernet is None:
            raise SecretsUnavailable(NO_KEY)
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        if self._fernet is None:
            raise SecretsUnavailable(NO_KEY)
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise SecretsUnavailable(
                f"the channel's secrets were sealed with another key than this server's "
                f"({self.origin}): set {KEY_VARIABLE} to the key they were sealed with, "
                "or enter the secrets again"
            ) from None


def _checked(key: str, where: str) -> bytes:
    raw = key.strip().encode()
    try:
        Fernet(raw)
    except ValueError:
        raise ValueError(
            f"{where} is not a Fernet key (32 bytes, url-safe base64): make one with "
            'python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        ) from None
    return raw


def _key_file(path: Path) -> bytes:
    """The key in ``path``, made once (mode 0600, never overwritten)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _checked(path.read_text(), str(path))
    with os.fdopen(descriptor, "wb") as file:
        key = Fernet.generate_key()
        file.write(key + b"\n")
    return key


def secret_box(env_key: str | None, sqlite_file: Path | None) -> FernetBox:
    """The box for this server: the environment's key; else, on SQLite, the key file
    beside the database; else (PostgreSQL) a box that refuses to seal."""
    if env_key:
        return FernetBox(_checked(env_key, KEY_VARIABLE), KEY_VARIABLE)
    if sqlite_file is not None:
        path = sqlite_file.parent / KEY_FILE
        return FernetBox(_key_file(path), str(path))
    return FernetBox(None, "none")
