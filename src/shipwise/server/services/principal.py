"""Who is asking: the identity a token carries into every service call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shipwise.domain.access import Action, Role, TokenKind, allows
from shipwise.server.ports import Project
from shipwise.server.services.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Principal:
    actor: str  # what the audit log records, e.g. "token:ci (api, release-manager)"
    kind: TokenKind
    role: Role | None = None
    project_id: int | None = None
    environment_id: int | None = None
    global_admin: bool = False
    token_id: int | None = None
    # Who the token stands for in the release process (approvals, authorship): an api
    # token is named after its person, e.g. "alice".
    person: str = "system"
    expires_at: datetime | None = None  # when the token stops working (streams end then)

    def require_api_token(self) -> None:
        """Raise Forbidden for SDK keys: they read their environment, nothing else."""
        if self.kind is not TokenKind.API:
            raise Forbidden(f"a {self.kind} SDK key cannot use the admin API; use an api token")

    def require_global_admin(self, what: str) -> None:
        self.require_api_token()
        if not self.global_admin:
            raise Forbidden(f"only a global admin token (like the first one) may {what}")

    def require(self, action: Action, project: Project | None = None) -> None:
        """Raise Forbidden unless this principal may do ``action`` (on ``project``)."""
        self.require_api_token()
        if self.global_admin:
            return
        if project is None or self.project_id != project.id:
            where = f"project {project.key!r}" if project else "this resource"
            raise Forbidden(f"this token has no access to {where}")
        if self.role is None or not allows(self.role, action):
            raise Forbidden(f"role {self.role} may not {action} in project {project.key!r}")


SYSTEM = Principal(actor="system", kind=TokenKind.API, global_admin=True)
