"""A project's settings: ``GET /projects/{project}/settings``.

- Environments and pipeline: the environments in promotion order, and each stage of the
  policy in force with its gates in words (the gates registry's ``describe``, for a
  feature release: what promoting one into that environment asks for).
- The policy: the applied ``shipwise.toml`` (or the defaults), and for those who may
  manage it a textarea to apply a new one (``settings_actions``).
- Tokens and SDK keys: listed, created and revoked by those who may manage tokens (the
  token service refuses everyone else, so the section says so instead).
- Metric definitions: read, settings with their secrets starred as the API shows them.
- Notification channels: listed (kind, settings, which secrets are set, never a value);
  added, tested and removed by those who may manage them (``channel_actions``).

Every part reads what the API's routes read, with the viewer's principal. ``show`` is
also how an action answers in place: a new token's secret (this once), a policy's
problems line by line, a weakening policy's change request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from shipwise.domain.access import Action, Role, TokenKind
from shipwise.domain.gates import describe_gates, gate_label
from shipwise.domain.policy import parse_policy
from shipwise.domain.policy_model import Policy, StageGates
from shipwise.domain.releases import ChangeKind, Release
from shipwise.server.bootstrap import Services
from shipwise.server.services.channels import TestAnswer
from shipwise.server.services.metric_catalog import public_definition
from shipwise.server.services.policies import PolicyOutcome
from shipwise.server.services.tokens import IssuedToken, TokenView
from shipwise.server.web.channel_forms import FORMS as CHANNEL_FORMS
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, Viewer
from shipwise.server.web.templating import may, render

__all__ = ["Shown", "StageView", "router", "settings_url", "show"]

router = web_router()
# A nominal release's dates: no gate's description reads them.
NOMINAL_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)


def settings_url(project: str) -> str:
    return f"/projects/{project}/settings"


@dataclass(frozen=True, slots=True)
class StageView:
    """One stage of the pipeline: its environment's gates in words, in the order a
    promotion judges them (gate label, requirement)."""

    stage: StageGates
    gates: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Shown:
    """What an action left to show in place, beside the page as it stands: ``status``,
    the form at fault (``action``) with its ``errors`` and what was typed, a new token's
    secret (this response only), a policy's every problem or its change request, what a
    channel answered a test message (``tested``: its name and the answer)."""

    status: int = 200
    action: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    issued: IssuedToken | None = None
    problems: tuple[Any, ...] = ()  # engine.problems.Problem: line, path, text
    pending: PolicyOutcome | None = None
    tested: tuple[str, TestAnswer] | None = None


def _pipeline(policy: Policy, project: str) -> list[StageView]:
    # The gates depend on the release only through its kind (a hotfix takes its own
    # path): a nominal feature release asks what every feature is asked.
    moment = NOMINAL_MOMENT
    nominal = Release(0, project, "a feature release", "", ChangeKind.FEATURE, "", moment, moment)
    return [
        StageView(
            stage,
            tuple(
                (gate_label(gate), words)
                for gate, words in describe_gates(nominal, stage.environment, policy)
            ),
        )
        for stage in policy.stages
    ]


def _tokens(services: Services, viewer: Viewer, project: str) -> list[TokenView] | None:
    """The project's tokens, or None when the viewer may not manage them (not shown)."""
    if not may(viewer, Action.MANAGE_TOKENS.value):
        return None
    views = services.tokens.all(viewer.principal, project)
    return sorted(views, key=lambda v: (v.record.revoked_at is not None, -v.record.id))


def show(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str,
    shown: Shown | None = None,
) -> HTMLResponse:
    """The settings page as it stands now, with ``shown`` in place (its status)."""
    shown = shown or Shown()
    principal = viewer.principal
    environments = services.projects.get(principal, project).environments
    effective, source, version = services.policies.effective(principal, project)
    policy = parse_policy(effective)  # the policy in force, as dump_policy wrote it
    metrics = [public_definition(m) for m in services.metric_catalog.all(principal, project)]
    typed_policy = shown.values.get("source") if shown.action == "policy" else None
    return render(
        request,
        "settings.html",
        viewer,
        status=shown.status,
        project=project,
        nav="settings",
        url=settings_url(project),
        shown=shown,
        environments=environments,
        pipeline=_pipeline(policy, project),
        policy=policy,
        effective=effective,
        source=source,
        version=version,
        draft=typed_policy if typed_policy is not None else (source or effective),
        tokens=_tokens(services, viewer, project),
        kinds=[k.value for k in TokenKind],
        roles=[r.value for r in Role],
        metrics=metrics,
        channels=services.channels.list(principal, project),
        channel_forms=CHANNEL_FORMS,
    )


@router.get("/projects/{project}/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, project: str, viewer: SignedIn, services: ServicesDep
) -> HTMLResponse:
    return show(request, viewer, services, project)
