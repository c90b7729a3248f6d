"""Set-up for tests whose subject is a rollout plan in production, not the release
process: production is protected, so a plan there ships a release that passed its gates.
The walk through the gates is tested on its own (tests/e2e/test_release_process.py,
tests/integration/api/test_protected_environments.py); here the release is stored as
it stands after that walk."""

from __future__ import annotations

from dataclasses import replace

from shipwise.server.bootstrap import Services
from shipwise.server.services.principal import SYSTEM


def release_in_production(services: Services, flag: str, project: str = "default") -> str:
    """A feature release shipping ``flag``, in production; its key."""
    release = services.releases.create(
        SYSTEM, project, title=f"{flag} for everyone", kind="feature", flags=[flag]
    )
    with services.database.transaction() as tx:
        tx.save_release(replace(release, stage="production"))
    return release.key
