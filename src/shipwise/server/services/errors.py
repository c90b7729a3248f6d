"""Errors services raise; the API turns each into its HTTP status. Every message says
what is wrong and, where it helps, what to do next.

    ServiceError
    ├── NotFound          404  a project, environment, flag, segment or token
    ├── Invalid           422  bad input; ``field`` names the culprit
    ├── Conflict          409  a stale version (If-Match) or a duplicate key
    │   └── Refused       409  a protected environment holds back a change that would
    │                          show a feature to more users; says which way gets there
    ├── PreconditionRequired 428  a write that must carry If-Match did not
    ├── Unauthenticated   401  no token, an unknown, revoked or expired one
    ├── Forbidden         403  the token's role or kind does not allow it
    ├── Unavailable       503  the database cannot do it now (full disk, lock, down);
    │                          ``retry_after`` seconds, and what to do meanwhile
    └── WebhookNotConfigured 503  no secret to check a webhook's deliveries with
"""

from __future__ import annotations

from shipwise.server.ports import StorageUnavailable


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def details(self) -> dict[str, object]:
        """More for the error body than message and field (e.g. a refused promotion's gates)."""
        return {}


class NotFound(ServiceError):
    status = 404


class Invalid(ServiceError):
    status = 422


class Conflict(ServiceError):
    status = 409


class Refused(Conflict):
    """A change the process does not allow this way (a protected environment's rule);
    the message says why and names the command that would get there. Nothing changed."""


class PreconditionRequired(ServiceError):
    status = 428


class Unauthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class Unavailable(ServiceError):
    status = 503

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        retry_after: int = 5,
        problem: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
        self.problem = problem

    @classmethod
    def storage(cls, error: StorageUnavailable) -> Unavailable:
        """The storage adapter's report, as the API answers it."""
        message = f"storage unavailable ({error.problem}): {error.advice}"
        return cls(message, retry_after=error.retry_after, problem=str(error.problem))

    def details(self) -> dict[str, object]:
        return {"problem": self.problem} if self.problem else {}


class WebhookNotConfigured(ServiceError):
    """503: the server has no secret for a webhook (GitHub's, Vercel's drains), so no
    delivery can be trusted."""

    status = 503
