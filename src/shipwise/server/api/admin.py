"""The admin API, ``/api/v1``: projects, environments, flags and their rules, segments,
tokens, the audit log, imports, releases, rollout plans and their metrics. One router
for ``app``; each resource's routes and shapes live in its own ``admin_*`` module.

Every route needs a bearer token (``Authorization: Bearer <token>``); the services
decide what its role allows. Every error is ``{"error": {"status", "message", "field"}}``.
"""

from __future__ import annotations

from fastapi import APIRouter, Security
from fastapi.security import HTTPBearer

from shipwise.server.api import (
    admin_announcements,
    admin_audit,
    admin_change_requests,
    admin_channels,
    admin_deliveries,
    admin_deploys,
    admin_email_announcements,
    admin_flag_rules,
    admin_flags,
    admin_import,
    admin_learnings,
    admin_metrics,
    admin_policy,
    admin_projects,
    admin_release_notes,
    admin_releases,
    admin_rollouts,
    admin_schedule,
    admin_segments,
    admin_sign_in,
    admin_subscriptions,
    admin_tokens,
)

# Documents the bearer scheme in /openapi.json; the token itself is checked by
# ``auth.principal`` on every route, so this one never rejects anything.
_bearer = HTTPBearer(auto_error=False, description="An api token: sw_api_…")

router = APIRouter(prefix="/api/v1", dependencies=[Security(_bearer)])
for module in (
    admin_projects,
    admin_flags,
    admin_flag_rules,
    admin_segments,
    admin_tokens,
    admin_audit,
    admin_import,
    admin_releases,
    admin_deploys,
    admin_release_notes,
    admin_learnings,
    admin_announcements,
    admin_policy,
    admin_change_requests,
    admin_rollouts,
    admin_metrics,
    admin_sign_in,
    admin_channels,
    admin_subscriptions,
    admin_deliveries,
    admin_email_announcements,
    admin_schedule,
):
    router.include_router(module.router)
