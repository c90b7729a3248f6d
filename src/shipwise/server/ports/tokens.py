"""API tokens: only their hash is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    name: str
    kind: str
    role: str | None
    project_id: int | None
    environment_id: int | None
    prefix: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenStore(Protocol):
    def add_token(
        self,
        *,
        name: str,
        kind: str,
        role: str | None,
        project_id: int | None,
        environment_id: int | None,
        secret_hash: str,
        prefix: str,
        created_by: str,
        expires_at: datetime | None,
    ) -> TokenRecord: ...
    def find_token(self, secret_hash: str) -> TokenRecord | None: ...
    def list_tokens(self, project_id: int | None) -> list[TokenRecord]: ...
    def get_token(self, token_id: int) -> TokenRecord | None: ...
    def revoke_token(self, token_id: int, at: datetime) -> TokenRecord: ...
    def count_tokens(self) -> int: ...
