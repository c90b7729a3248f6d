"""What a person changes from a project's settings page, each a form that posts here and
calls the service the API's route calls, as the signed-in person:

POST /projects/{p}/settings/tokens                 name, kind, role, environment, expires
                                                   services.tokens.create: the page again
                                                   (201) with the secret, this once
GET  /projects/{p}/settings/tokens/{id}/revoke     "revoke this token?", with what stops
POST /projects/{p}/settings/tokens/{id}/revoke     services.tokens.revoke
POST /projects/{p}/settings/policy                 source; services.policies.apply

A new token's secret is in that one response and nowhere else: the page is never cached
(``Cache-Control: no-store``), a reload of the settings page does not show it, and no
redirect carries it in a URL. A policy with mistakes is the page again (422) with every
problem by line and key and the text as typed; one that weakens a rule is the page (202)
with its change request in words and the commands that approve and apply it. A refusal
(a role that may not) is the error page, 403; nothing changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form, Path, Request, Response
from fastapi.responses import HTMLResponse

from shipwise.domain.durations import DurationOutOfRange, parse_duration
from shipwise.server.bootstrap import Services
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.policies import PolicyInvalid
from shipwise.server.services.tokens import TokenView
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, SignedInPost, Viewer
from shipwise.server.web.settings_page import Shown, settings_url, show
from shipwise.server.web.templating import redirect_done, render
from shipwise.server.web.typed_fields import TypedFields

__all__ = ["MAX_POLICY", "router"]

router = web_router()
MAX_POLICY = 100_000  # characters, as the API's PolicyIn.source
# Read as text and judged by the service, so a bad value is the page again with the
# message beside its field. The body limit of pages (``api.limits``: 64 KiB unless the
# operator raises it) bounds them first; a policy file is a few KiB.
FormText = Annotated[str, Form()]
# A token's number as the API takes it (schemas.TokenId): beyond it, no row has one.
TokenNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
REVOKE = "/projects/{project}/settings/tokens/{token_id}/revoke"
EXPIRY_EXAMPLE = "a duration (90d, 12h, 2w) or a date (2027-01-31)"  # as the CLI's --expires


class TokenFields(TypedFields):
    """The new-token form as typed; the service judges each value."""

    name: str = ""
    kind: str = ""
    role: str = ""
    environment: str = ""
    expires: str = ""


def _expiry(text: str, now: datetime) -> datetime | None:
    """When a new token stops working: ``text`` as the CLI's ``--expires`` reads it (a
    duration from now in ``domain.durations``' grammar, or an ISO date or time, UTC
    unless it says otherwise); empty: never. ``Invalid`` names the field ``expires``."""
    if not text:
        return None
    try:
        until = now + parse_duration(text)
    except DurationOutOfRange as error:  # a duration, but negative or past a century
        raise Invalid(f"{error}; give {EXPIRY_EXAMPLE}", field="expires") from None
    except ValueError:  # not a duration: perhaps a date
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            neither = f"{text!r} is neither a duration (90d, 12h, 2w) nor a date (2027-01-31)"
            raise Invalid(neither, field="expires") from None
        until = found if found.tzinfo else found.replace(tzinfo=UTC)
    if until <= now:
        raise Invalid(f"{text!r} is not in the future; give {EXPIRY_EXAMPLE}", field="expires")
    return until


@router.post("/projects/{project}/settings/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    project: str,
    viewer: SignedInPost,
    services: ServicesDep,
    typed: Annotated[TokenFields, Form()],
) -> HTMLResponse:
    try:
        issued = services.tokens.create(
            viewer.principal,
            name=typed.name,
            kind=typed.kind,
            project_key=project,
            environment_key=typed.environment or None,
            role=typed.role or None,
            expires_at=_expiry(typed.expires, services.tokens.now()),
        )
    except (Invalid, Conflict) as error:
        # The service names the API's field, expires_at; the form's is expires.
        field = "expires" if error.field == "expires_at" else error.field
        errors = {field or "form": error.message}
        shown = Shown(error.status, "token", errors, typed.model_dump())
        return show(request, viewer, services, project, shown)
    return show(request, viewer, services, project, Shown(201, "token", issued=issued))


def _project_token(services: Services, viewer: Viewer, project: str, token_id: int) -> TokenView:
    """The token ``token_id`` of ``project``: one of another project is not found here."""
    view = services.tokens.get(viewer.principal, token_id)
    if view.project != project:
        raise NotFound(f"no token {token_id} in project {project!r}")
    return view


@router.get(REVOKE, response_class=HTMLResponse)
def confirm_revoke(
    request: Request, project: str, token_id: TokenNumber, viewer: SignedIn, services: ServicesDep
) -> HTMLResponse:
    view = _project_token(services, viewer, project, token_id)
    back = settings_url(project)
    return render(
        request, "token_revoke.html", viewer, project=project, nav="settings", view=view, back=back
    )


@router.post(REVOKE)
def revoke(
    request: Request,
    project: str,
    token_id: TokenNumber,
    viewer: SignedInPost,
    services: ServicesDep,
) -> Response:
    view = _project_token(services, viewer, project, token_id)
    if view.record.revoked_at is not None:
        return redirect_done(settings_url(project), f"{view.record.name} was already revoked")
    services.tokens.revoke(viewer.principal, token_id)
    done = f"Revoked {view.record.name} ({view.record.prefix}…): it stops working at once"
    return redirect_done(settings_url(project), done)


@router.post("/projects/{project}/settings/policy")
def apply_policy(
    request: Request,
    project: str,
    viewer: SignedInPost,
    services: ServicesDep,
    source: FormText = "",
) -> Response:
    typed = {"source": source}
    try:
        if not source.strip():
            raise Invalid("paste the policy file (shipwise.toml) to apply", field="source")
        if len(source) > MAX_POLICY:
            raise Invalid(
                f"at most {MAX_POLICY:,} characters ({len(source):,} given)", field="source"
            )
        outcome = services.policies.apply(viewer.principal, project, source)
    except PolicyInvalid as error:
        shown = Shown(422, "policy", {"source": error.message}, typed, problems=error.problems)
        return show(request, viewer, services, project, shown)
    except (Invalid, Conflict) as error:
        shown = Shown(error.status, "policy", {"source": error.message}, typed)
        return show(request, viewer, services, project, shown)
    if outcome.request is not None:
        return show(request, viewer, services, project, Shown(202, "policy", pending=outcome))
    version = f" (version {outcome.version})" if outcome.version else ""
    return redirect_done(settings_url(project), f"Applied the policy{version}")
