"""``shipwise deploy report --vercel-deployment dpl_...`` against a real server: the
deploy is recorded with its Vercel deployment linked and the line says which; ``--json``
carries it; a failed deploy says it linked nothing; an id that is not Vercel's exits 2
naming the option before anything is sent."""

from __future__ import annotations

from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer

from shipwise.server.ports import AuditFilter

SHA = "4f2a9c1e" * 5
DEPLOYMENT = "dpl_2YjTyBpWVEXBpbTA2XvkX3bYb4Dh"


def _linked(server: RunningServer, project: str) -> tuple[str, ...]:
    with server.services.store.read() as tx:
        found = tx.get_project(project)
        assert found is not None
        return tx.vercel_deployments(found.id, "production", SHA)


def _project(shipwise: Shipwise, remote: tuple[str, ...], name: str) -> tuple[str, ...]:
    assert shipwise("project", "create", name, *remote).exit_code == 0
    return ("-e", "production", "--ref", SHA, "-p", name, *remote)


def test_deploy_report__with_a_vercel_deployment__links_it_and_names_it(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    deploy = _project(shipwise, remote, "vercel-cli")

    result = shipwise("deploy", "report", "--vercel-deployment", DEPLOYMENT, *deploy)

    assert result.exit_code == 0, result.output
    assert f"to vercel-cli/production as Vercel deployment {DEPLOYMENT}: succeeded." in (
        result.stdout
    )
    assert _linked(server, "vercel-cli") == (DEPLOYMENT,)


def test_deploy_report__json__carries_the_vercel_deployment(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    deploy = _project(shipwise, remote, "vercel-cli-json")

    answer = shipwise.json("deploy", "report", "--vercel-deployment", DEPLOYMENT, *deploy)

    assert answer == {"recorded": True, "vercel_deployment": DEPLOYMENT, "vercel_linked": True}
    assert _linked(server, "vercel-cli-json") == (DEPLOYMENT,)


def test_deploy_report__failed_with_a_vercel_deployment__says_it_linked_nothing(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    deploy = _project(shipwise, remote, "vercel-cli-failed")

    result = shipwise("deploy", "report", "--failed", "--vercel-deployment", DEPLOYMENT, *deploy)

    assert result.exit_code == 0, result.output
    assert "not linked: a failed deploy served nobody" in result.stdout
    assert "failed." in result.stdout
    assert _linked(server, "vercel-cli-failed") == ()


def test_deploy_report__a_vercel_url_for_the_deployment__exits_2_naming_the_option(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    deploy = _project(shipwise, remote, "vercel-cli-bad")

    result = shipwise(
        "deploy", "report", "--vercel-deployment", "https://shop-abc.vercel.app", *deploy
    )

    assert result.exit_code == 2, result.output
    assert "--vercel-deployment" in result.stderr
    assert "is not a Vercel deployment id" in result.stderr
    assert _linked(server, "vercel-cli-bad") == ()
    with server.services.store.read() as tx:  # no deploy either: nothing was sent
        assert tx.list_audit(AuditFilter(project="vercel-cli-bad", action="deploy.*")) == []
