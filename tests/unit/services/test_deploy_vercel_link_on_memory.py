"""``EvidenceService.report_deploy`` with a Vercel deployment, on the memory store: a
successful deploy ties the deployment to the deploy's environment, commit and time in
the deploy's transaction, its audit record naming it; a failed deploy links nothing; an
id that is not Vercel's is refused naming the field before anything is recorded."""

from __future__ import annotations

import pytest
from tests.unit.services.world import COMMIT, PROJECT, World

from shipwise.server.ports.vercel import VercelDeployment
from shipwise.server.services.errors import Invalid

DEPLOYMENT = "dpl_9kTq3Vx"


def _linked(world: World, environment: str = "production") -> tuple[str, ...]:
    with world.store.read() as tx:
        project = tx.get_project(PROJECT)
        assert project is not None
        return tx.vercel_deployments(project.id, environment, COMMIT)


def test_report_deploy__with_a_vercel_deployment__links_it_when_the_deploy_is_recorded(
    world: World,
) -> None:
    link = world.evidence.report_deploy(
        world.person("ci"), PROJECT, "production", COMMIT, vercel_deployment=DEPLOYMENT
    )

    assert isinstance(link, VercelDeployment)
    assert (link.deployment, link.environment, link.commit) == (DEPLOYMENT, "production", COMMIT)
    [audit] = world.audit(action="deploy.report")
    assert link.at == audit.at  # one transaction, one moment
    assert audit.entry.after == {
        "commit": COMMIT,
        "succeeded": True,
        "vercel_deployment": DEPLOYMENT,
    }
    assert _linked(world) == (DEPLOYMENT,)


def test_report_deploy__failed_with_a_vercel_deployment__links_nothing(world: World) -> None:
    link = world.evidence.report_deploy(
        world.person("ci"), PROJECT, "production", COMMIT, False, DEPLOYMENT
    )

    assert link is None
    assert _linked(world) == ()
    assert len(world.audit(action="deploy.report")) == 1  # the failed deploy is still recorded


def test_report_deploy__with_a_malformed_vercel_deployment__is_refused_naming_the_field(
    world: World,
) -> None:
    with pytest.raises(Invalid) as refused:
        world.evidence.report_deploy(
            world.person("ci"), PROJECT, "production", COMMIT, vercel_deployment="dpl_a b"
        )

    assert refused.value.field == "vercel_deployment"
    assert "not a Vercel deployment id" in refused.value.message
    assert world.audit(action="deploy.report") == []
    assert _linked(world) == ()
