"""The flag page's quick switches, one environment each:

POST /projects/{project}/flags/{flag}/envs/{env}/toggle   enabled=true|false
POST /projects/{project}/flags/{flag}/envs/{env}/rollout  percentage=0..100
POST /projects/{project}/flags/{flag}/envs/{env}/kill     reason=...

Each form carries the version its page showed (``version``) and the CSRF token
(``SignedInPost``), and calls the service method the API's switch calls
(``api.admin_flag_rules``) with the signed-in person's Principal, so the role, the audit
record and every refusal are the API's. Done: 303 to the flag page with what changed.
Not done, nothing changed: the page again, 409 for a stale version ("someone changed
this; reload") or a protected environment's refusal (which names the way that gets
there), 422 with the message beside the field; a role that may not is the 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from shipwise.domain.access import Action
from shipwise.server.bootstrap import Services
from shipwise.server.ports import FlagConfig
from shipwise.server.services.errors import Conflict, Forbidden, Invalid, Refused
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.flag_page import Acted, flag_page
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedInPost, Viewer
from shipwise.server.web.templating import may, redirect_done

router = web_router()
PATH = "/projects/{project}/flags/{flag}/envs/{env}"

MAX_REASON = 1_000  # as the API's kill (schemas.Reason)
STALE = "Someone changed this flag since this page was loaded; reload it to see the change."

FormText = Annotated[str, Form()]


class _Field(Exception):
    """A form field this module reads itself is wrong: the page again, 422."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _version(text: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise _Field("version", "the page sent no version: reload it and try again")
    return int(text)


def _percentage(text: str) -> int:
    text = text.strip().removesuffix("%").strip()
    if not text.lstrip("-").isdigit() or len(text) > 4:
        raise _Field("percentage", "a whole number from 0 to 100")
    return int(text)


@dataclass(frozen=True, slots=True)
class Switch:
    """What every switch's form brings: the request, who sends it, the services, the
    flag and environment from the path, and the version the page showed."""

    request: Request
    viewer: Viewer
    services: Services
    project: str
    flag: str
    env: str
    version: str

    def act(
        self, acted: Acted, change: Callable[[int], FlagConfig], done: str
    ) -> HTMLResponse | RedirectResponse:
        """``change`` (given the page's version) as the viewer: 303 to the flag page with
        ``done``, or the page again, nothing changed, with why not."""
        project, flag, env, viewer = self.project, self.flag, self.env, self.viewer

        def again(
            status: int, errors: dict[str, str] | None = None, message: str | None = None
        ) -> HTMLResponse:
            failed = Acted(acted.environment, acted.action, errors or {}, message, acted.values)
            return flag_page(
                self.request, viewer, self.services, project, flag, status=status, acted=failed
            )

        # The role first, as the API's routes check it before reading the body: a viewer's
        # forged form is a 403 whatever its fields say. (The service checks it again.)
        needs = Action.KILL if acted.action == "kill" else Action.WRITE_FLAGS
        if not may(viewer, needs):
            role = viewer.principal.role
            raise Forbidden(f"role {role} may not {needs} in project {project!r}")
        try:
            config = change(_version(self.version))
        except _Field as error:
            return again(422, errors={error.name: error.message})
        except Refused as error:  # before Conflict: a refusal is one
            # The environment at fault: the page links its change requests, the other way in.
            return again(409, errors={"environment": error.message}, message=error.message)
        except Conflict as error:
            return again(409, message=f"{STALE} ({error.message})")
        except Invalid as error:
            if error.field in acted.values:
                return again(422, errors={error.field: error.message})
            return again(422, message=error.message)
        url = f"/projects/{quote(project, safe='')}/flags/{quote(flag, safe='')}"
        return redirect_done(url, f"{done} in {env} (now version {config.version}).")


def _switch(
    request: Request,
    project: str,
    flag: str,
    env: str,
    viewer: SignedInPost,
    services: ServicesDep,
    version: FormText = "",
) -> Switch:
    return Switch(request, viewer, services, project, flag, env, version)


SwitchForm = Annotated[Switch, Depends(_switch)]


@router.post(f"{PATH}/toggle", response_model=None)
def toggle(at: SwitchForm, enabled: FormText = "") -> HTMLResponse | RedirectResponse:
    on = enabled.strip().lower() == "true"

    def change(expected: int) -> FlagConfig:
        who = at.viewer.principal
        return at.services.flags.set_enabled(who, at.project, at.flag, at.env, on, expected)

    acted = Acted(at.env, "toggle", values={"enabled": enabled})
    return at.act(acted, change, f"{at.flag} switched {'on' if on else 'off'}")


@router.post(f"{PATH}/rollout", response_model=None)
def rollout(at: SwitchForm, percentage: FormText = "") -> HTMLResponse | RedirectResponse:
    def change(expected: int) -> FlagConfig:
        share, who = _percentage(percentage), at.viewer.principal
        return at.services.flags.set_rollout(
            who, at.project, at.flag, at.env, share, None, expected
        )

    acted = Acted(at.env, "rollout", values={"percentage": percentage})
    return at.act(acted, change, f"{at.flag} rolled out to {percentage.strip()}%")


@router.post(f"{PATH}/kill", response_model=None)
def kill(at: SwitchForm, reason: FormText = "") -> HTMLResponse | RedirectResponse:
    def change(expected: int) -> FlagConfig:
        if len(reason) > MAX_REASON:
            raise _Field("reason", f"at most {MAX_REASON:,} characters")
        who = at.viewer.principal
        return at.services.flags.kill(who, at.project, at.flag, at.env, reason, expected)

    acted = Acted(at.env, "kill", values={"reason": reason})
    return at.act(acted, change, f"{at.flag} killed")
