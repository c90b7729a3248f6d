"""Sealing secrets before they reach the store, and opening them for a sender."""

from __future__ import annotations

from typing import Protocol


class SecretsUnavailable(Exception):
    """No key to seal or open secrets with (or the key does not open them); the message
    says how to give the server one."""


class SecretBox(Protocol):
    def seal(self, plain: str) -> str:
        """Ciphertext safe to store; ``SecretsUnavailable`` when there is no key."""
        ...

    def open(self, sealed: str) -> str:
        """Back to the plain text; ``SecretsUnavailable`` when the key cannot open it."""
        ...
