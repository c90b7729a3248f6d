"""The help-docs page of a release: a link recorded when the help documentation has been
updated for it, which the help-docs gate asks of major features (``domain.gates.
help_docs``). Recording it is audited and withdraws no approval: it says where the
documentation is, it does not change what is being released."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol
from urllib.parse import urlsplit

from shipwise.domain.access import Action
from shipwise.domain.releases import Release
from shipwise.server.ports import AuditStore, Clocked, ProjectStore, ReleaseStore, StoreOf
from shipwise.server.services._common import audit
from shipwise.server.services.errors import Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_access import release_or_404

__all__ = ["MAX_URL", "HelpDocsService", "help_docs_url"]

MAX_URL = 2_000


class HelpDocsTx(ProjectStore, ReleaseStore, AuditStore, Clocked, Protocol):
    """The release and the audit record of the link."""


def help_docs_url(value: str) -> str:
    """``value`` as a help-docs link (an absolute http or https address), or Invalid."""
    url = value.strip()
    parts = urlsplit(url) if len(url) <= MAX_URL else None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url)
    ):
        raise Invalid(
            f"url must be an http:// or https:// address of at most {MAX_URL:,} characters, "
            "like https://help.example.com/new-checkout",
            field="url",
        )
    return url


class HelpDocsService:
    def __init__(self, store: StoreOf[HelpDocsTx]) -> None:
        self._store = store

    def record(self, principal: Principal, project_key: str, key: str, url: str | None) -> Release:
        """Record the help-docs page (None: forget it)."""
        kept = None if url is None else help_docs_url(url)
        with self._store.transaction() as tx:
            _project, release = release_or_404(
                tx, principal, project_key, key, Action.MANAGE_RELEASES
            )
            if release.help_docs == kept:
                return release
            saved = tx.save_release(replace(release, help_docs=kept))
            audit(
                tx,
                principal,
                "release.help_docs",
                "release",
                key,
                project=project_key,
                before={"help_docs": release.help_docs},
                after={"help_docs": kept},
            )
            return saved
