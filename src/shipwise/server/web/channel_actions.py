"""A project's notification channels from its settings page, each form calling the
channel service the API's routes call, as the signed-in person:

POST /projects/{p}/settings/channels                  kind, name and the kind's fields
                                                      (channel_forms): services.channels
                                                      .create, then the page (303)
GET  /projects/{p}/settings/channels/{c}/remove       "remove this channel?"
POST /projects/{p}/settings/channels/{c}/remove       services.channels.remove
POST /projects/{p}/settings/channels/{c}/test         services.channels.test: the page
                                                      with what the channel answered

A secret typed into the form goes to the service and nowhere else: a refused form (422
beside its field, 409 in place) comes back with what was typed except its secrets. Those
who may not manage channels get the error page, 403, before anything is judged, as the
API's ``manage-channels`` check answers; nothing changed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request, Response
from fastapi.responses import HTMLResponse

from shipwise.domain.access import Action
from shipwise.server.services.errors import Conflict, Forbidden, Invalid
from shipwise.server.web.channel_forms import (
    FORMS,
    ChannelFields,
    form_field,
    kept_values,
    split_fields,
)
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, SignedInPost, Viewer
from shipwise.server.web.settings_page import Shown, settings_url, show
from shipwise.server.web.templating import may, redirect_done, render

__all__ = ["router"]

router = web_router()
CHANNELS = "/projects/{project}/settings/channels"
# A channel's id or name, as the API's ChannelRef takes it.
ChannelRef = Annotated[str, Path(min_length=1, max_length=63)]


def _require_manager(viewer: Viewer, project: str) -> None:
    if not may(viewer, Action.MANAGE_CHANNELS.value):
        raise Forbidden(
            f"{viewer.principal.person} may not manage the channels of project {project!r}: "
            "admins and release managers may"
        )


@router.post(CHANNELS, response_class=HTMLResponse)
def add_channel(
    request: Request,
    project: str,
    viewer: SignedInPost,
    services: ServicesDep,
    typed: Annotated[ChannelFields, Form()],
) -> Response:
    _require_manager(viewer, project)
    kind = typed.kind
    try:
        if kind not in FORMS:
            raise Invalid(f"kind must be one of {', '.join(FORMS)}", field="kind")
        settings, secrets = split_fields(kind, typed)
        view = services.channels.create(
            viewer.principal, project, typed.name, kind, settings, secrets
        )
    except (Invalid, Conflict) as error:
        errors = {form_field(kind, error.field): error.message}
        shown = Shown(error.status, f"channel-{kind}", errors, kept_values(kind, typed))
        return show(request, viewer, services, project, shown)
    done = f"Added the {view.kind} channel {view.name}: send it a test message to check it"
    return redirect_done(settings_url(project), done)


@router.get(CHANNELS + "/{channel}/remove", response_class=HTMLResponse)
def confirm_remove(
    request: Request, project: str, channel: ChannelRef, viewer: SignedIn, services: ServicesDep
) -> HTMLResponse:
    view = services.channels.get(viewer.principal, project, channel)
    back = settings_url(project)
    page = "channel_remove.html"
    return render(request, page, viewer, project=project, nav="settings", view=view, back=back)


@router.post(CHANNELS + "/{channel}/remove")
def remove_channel(
    project: str, channel: ChannelRef, viewer: SignedInPost, services: ServicesDep
) -> Response:
    _require_manager(viewer, project)
    view = services.channels.remove(viewer.principal, project, channel)
    done = f"Removed the channel {view.name}: nothing more is sent to it"
    return redirect_done(settings_url(project), done)


@router.post(CHANNELS + "/{channel}/test", response_class=HTMLResponse)
def test_channel(
    request: Request,
    project: str,
    channel: ChannelRef,
    viewer: SignedInPost,
    services: ServicesDep,
) -> HTMLResponse:
    _require_manager(viewer, project)
    view = services.channels.get(viewer.principal, project, channel)
    answer = services.channels.test(viewer.principal, project, channel)
    shown = Shown(200, f"channel-test-{view.name}", tested=(view.name, answer))
    return show(request, viewer, services, project, shown)
