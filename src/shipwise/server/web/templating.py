"""Rendering the dashboard's pages: Jinja2 templates from ``templates/``, every one
extending ``base.html``, autoescaped (a release title or an audit reason is text, never
markup).

``render`` is the one way a page answers: it hands every template the viewer (who may
be nobody yet, on the sign-in page), the flash message a redirect after a POST carried
in ``?done=`` and ``may(action)``, which a template asks before it shows a control (a
viewer sees none). The services still decide: a hidden control is only courtesy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from shipwise.domain.access import Action, allows
from shipwise.domain.durations import describe_duration
from shipwise.domain.gates import gate_label
from shipwise.domain.wording import short_commit

if TYPE_CHECKING:  # W1's module imports this one's render for its own pages
    from shipwise.server.web.session_auth import Viewer

__all__ = ["FLASH_PARAMETER", "MAX_FLASH", "may", "redirect_done", "render", "templates"]

FLASH_PARAMETER = "done"
# A flash is one sentence this server wrote; anything longer came from someone else's link.
MAX_FLASH = 300

_environment = Environment(
    loader=PackageLoader("shipwise.server.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    # A misspelt variable is an error in the tests, not a blank on the page.
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)


def _ago(moment: datetime, now: datetime) -> str:
    """How long ago, in the two largest units ("3d 4h")."""
    return describe_duration(now - moment)


def _when(moment: datetime | None) -> str:
    """A moment in UTC, to the minute: the API's times are UTC too."""
    return "" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _split_command(remedy: str) -> tuple[str, str | None]:
    """A gate's remedy as its words and the command that satisfies it, if it names one
    (``domain.commands`` quotes it in backticks): the page shows the command as code."""
    words, mark, rest = remedy.partition("`shipwise ")
    if not mark:
        return remedy, None
    command, _, after = rest.partition("`")
    return (words.rstrip(": ") + after).strip(), f"shipwise {command}"


_environment.filters.update(
    ago=_ago,
    when=_when,
    short_commit=short_commit,
    gate_label=gate_label,
    split_command=_split_command,
)


def may(viewer: Viewer | None, action: str) -> bool:
    """Whether ``viewer`` may do ``action`` (an ``Action`` value) in the project the page
    shows: its role's table, or a global admin. Pages are only served to a viewer of
    that project (the service checked READ), so the role is the question left."""
    if viewer is None:
        return False
    principal = viewer.principal
    if principal.global_admin:
        return True
    return principal.role is not None and allows(principal.role, Action(action))


def _flash(request: Request) -> str | None:
    text = request.query_params.get(FLASH_PARAMETER)
    if not text:
        return None
    return text[:MAX_FLASH]


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``viewer`` with ``context``; ``status`` is the page's
    answer (409 for a refusal shown in place, 422 for a field at fault)."""
    project = context.pop("project", None) or request.path_params.get("project")
    values: dict[str, Any] = {
        "viewer": viewer,
        "flash": _flash(request),
        "project": project,
        "errors": {},
        "nav": None,
        "may": lambda action: may(viewer, action),
    }
    values.update(context)
    return templates.TemplateResponse(request, template, values, status_code=status)


def redirect_done(url: str, message: str) -> RedirectResponse:
    """After a POST that changed something: 303 to the page's GET URL, the message in
    ``?done=`` (shown escaped in the flash area)."""
    return RedirectResponse(f"{url}?{urlencode({FLASH_PARAMETER: message})}", status_code=303)
