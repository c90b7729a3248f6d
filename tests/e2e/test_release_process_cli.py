"""The same walk as test_release_process.py, by people at a terminal and a CI pipeline:
every step through the ``shipwise`` command against a real server whose clock the test
holds, ending in production. Refusals exit 1, print the unmet gate, and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

from shipwise.server.services.principal import SYSTEM

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
COMMIT = "4f2a9c1e" * 5
PEOPLE = {
    "alice": "developer",
    "bob": "developer",
    "carol": "release-manager",
    "dana": "release-manager",  # the second pair of eyes on a weakening policy change
    "quinn": "qa",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_10)


@pytest.fixture
def server(tmp_path: Path, clock: ManualClock) -> Iterator[RunningServer]:
    with running_server(data_dir=tmp_path / "server", clock=clock) as running:
        running.services.flags.create(SYSTEM, "default", "new-checkout")
        running.services.flags.create(SYSTEM, "default", "saved-carts")
        yield running


@pytest.fixture
def people(server: RunningServer) -> dict[str, tuple[str, ...]]:
    """Each person's --url and --token; "ci" is the pipeline's token."""
    options = {}
    for name, role in {**PEOPLE, "ci": "developer"}.items():
        secret = server.services.tokens.create(
            SYSTEM, name=name, kind="api", project_key="default", role=role
        ).secret
        options[name] = ("--url", server.url, "--token", secret)
    return options


def test_feature__walks_to_production_through_the_cli(  # noqa: PLR0915 - the process, step by step
    tmp_path: Path, people: dict[str, tuple[str, ...]], clock: ManualClock
) -> None:
    shipwise = Shipwise(tmp_path)

    def run(person: str, *args: str, code: int = 0) -> str:
        result = shipwise(*args, *people[person])
        assert result.exit_code == code, result.output
        return result.stdout

    def refused(gate_words: str, env: str = "production") -> None:
        before = shipwise.json("release", "show", key, *people["carol"])
        out = run("carol", "release", "promote", key, code=1)
        assert gate_words in out
        check = shipwise("gate", "check", key, "--env", env, *people["carol"])
        assert check.exit_code == 1
        assert shipwise.json("release", "show", key, *people["carol"]) == before

    created = shipwise.json(
        "release", "create", "New checkout", "--flag", "new-checkout", "--commit", COMMIT,
        "--rollback-plan", "Turn new-checkout off; revert the merge.", *people["alice"],
    )  # fmt: skip
    key = str(created["key"])

    # Into dev: CI green and a code owner's review.
    run("ci", "ci", "report", "--ref", COMMIT, "--context", "tests", "--state", "success")
    run("alice", "release", "approve", key, code=1)  # an author never approves her own
    run("bob", "release", "approve", key)
    promoted = " ".join(run("carol", "release", "promote", key).split())
    assert "Switched on in dev for the policy's testers: new-checkout." in promoted
    run("ci", "deploy", "report", "--env", "dev", "--ref", COMMIT)

    # Into staging: one approval after the dev deploy.
    run("bob", "release", "approve", key)
    run("carol", "release", "promote", key)

    # Into production: the same commit on staging, two approvals, QA sign-off, a rehearsed
    # rollback, business hours, no freeze.
    refused("Deployed to the previous environment")
    run("ci", "deploy", "report", "--env", "staging", "--ref", COMMIT)
    run("bob", "release", "approve", key)
    refused("Approvals")
    run("carol", "release", "approve", key)
    refused("QA sign-off")
    run("quinn", "release", "signoff", key)
    refused("Rollback rehearsed")
    run("carol", "release", "drill", key, "--env", "staging")
    clock.set(datetime(2026, 12, 2, 18, 30, tzinfo=UTC))
    refused("Business hours")
    clock.set(WEDNESDAY_10)
    freeze = tmp_path / "shipwise.toml"
    freeze.write_text('[[freeze]]\nname = "Launch week"\nstart = 2026-12-01\nend = 2026-12-04\n')
    run("carol", "policy", "apply", str(freeze))
    refused("Launch week")
    freeze.write_text("")
    waiting = run("carol", "policy", "apply", str(freeze))  # lifting it weakens the policy
    lifted = waiting.split("change request #", 1)[1].split(",", 1)[0]
    run("dana", "change", "approve", lifted)
    run("dana", "change", "apply", lifted)

    assert shipwise("gate", "check", key, "--env", "production", *people["ci"]).exit_code == 0
    run("carol", "release", "promote", key)
    shown = shipwise.json("release", "show", key, *people["carol"])
    assert shown["release"]["stage"] == "production"

    # A second feature, ready in every other way, waits while the first one rolls out.
    second_commit = "9b1d0e77" * 5
    key = str(
        shipwise.json(
            "release", "create", "Saved carts", "--flag", "saved-carts",
            "--commit", second_commit, "--rollback-plan", "Turn saved-carts off.",
            *people["alice"],
        )["key"]
    )  # fmt: skip
    run("ci", "ci", "report", "--ref", second_commit, "--context", "tests", "--state", "success")
    for environment in ("dev", "staging"):
        run("bob", "release", "approve", key)
        run("carol", "release", "promote", key)
        run("ci", "deploy", "report", "--env", environment, "--ref", second_commit)
    run("bob", "release", "approve", key)
    run("carol", "release", "approve", key)
    run("quinn", "release", "signoff", key)
    run("carol", "release", "drill", key, "--env", "staging")
    refused("One feature rolling out")
