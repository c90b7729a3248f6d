"""Gates about the release's commit: green in CI, and deployed to the environment
before the target first. Commits are compared as recorded (full, lower-case SHAs,
normalised where they enter: ``domain.commits``)."""

from __future__ import annotations

from shipwise.domain import commands
from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok, stage_setting
from shipwise.domain.releases import CiResult
from shipwise.domain.wording import names, short_commit

__all__ = ["CI", "PREVIOUS_DEPLOY"]

_RED = frozenset({"failure", "error"})


def _ci(judging: Judging, _item: Item) -> Judged:
    """Green: at least one success for the commit, and no check (context) whose latest
    failure or error is newer than its latest success. Pending runs neither pass nor fail."""
    release, commit = judging.release, judging.release.commit
    if commit is None:
        record = commands.record_commit(release)
        return no(
            "the release has no commit recorded",
            f"record the commit being released, then let CI run on it: {record}",
        )
    short = short_commit(commit)
    by_context: dict[str, list[CiResult]] = {}
    for result in judging.evidence.ci:
        if result.commit == commit:
            by_context.setdefault(result.context, []).append(result)
    green: list[str] = []
    red: list[tuple[str, CiResult]] = []
    pending: list[str] = []
    for name, results in sorted(by_context.items()):
        successes = [r.at for r in results if r.state.lower() == "success"]
        failures = [r for r in results if r.state.lower() in _RED]
        last_failure = max(failures, key=lambda r: r.at) if failures else None
        if last_failure is not None and (not successes or last_failure.at > max(successes)):
            red.append((name, last_failure))
        elif successes:
            green.append(name)
        else:
            pending.append(name)
    if red:
        failed = "; ".join(f"{n} {r.state.lower()} at {judging.at(r.at)}" for n, r in red)
        failing = [n for n, _ in red]
        remedy = f"fix {names(failing)} on {short} and re-run until green, reported by: "
        return no(f"{short} is red in CI: {failed}", remedy + commands.ci_report(release, failing))
    if green:
        return ok(f"{short} green in CI ({', '.join(green)})")
    if pending:
        detail = f"CI on {short} has not finished ({', '.join(pending)} pending)"
        remedy = f"wait for {names(pending)} to finish green on {short}, reported by: "
        return no(detail, remedy + commands.ci_report(release, pending))
    remedy = f"run CI on {short} and report it green: {commands.ci_report(release, ())}"
    return no(f"no CI result for {short}", remedy)


def _previous_deploy(judging: Judging, _item: Item) -> Judged:
    previous, commit = judging.previous, judging.release.commit
    if previous is None:
        return ok(f"{judging.target} is the first environment")
    if commit is None:
        remedy = (
            f"record the commit being released and deploy it to {previous} first: "
            f"{commands.record_commit(judging.release)}"
        )
        return no("the release has no commit recorded", remedy)
    short = short_commit(commit)
    deploys = sorted(
        (d for d in judging.evidence.deploys if d.environment == previous), key=lambda d: d.at
    )
    ours = [d for d in deploys if d.commit == commit]
    landed = [d for d in deploys if d.succeeded]
    if any(d.succeeded for d in ours):
        last = [d for d in ours if d.succeeded][-1]
        return ok(f"{short} deployed to {previous} at {judging.at(last.at)}")
    if ours:
        detail = f"deploying {short} to {previous} failed at {judging.at(ours[-1].at)}"
    elif landed:
        running = f"{short_commit(landed[-1].commit)} (deployed at {judging.at(landed[-1].at)})"
        detail = f"{previous} runs {running}, not {short}"
    else:
        detail = f"nothing has been deployed to {previous}"
    report = commands.deploy_report(judging.release, previous)
    return no(detail, f"deploy {short} to {previous} and test it there first: {report}")


def _describe_previous_deploy(where: Where, _item: Item) -> str | None:
    """Nothing to ask of the first stage: its gate passes, saying so."""
    previous = where.previous
    return None if previous is None else f"the same commit deployed to {previous} first"


CI = Gate(
    "ci",
    "CI green",
    # The hotfix path still wants the fix green in CI, whatever the stage says.
    applies=lambda where: where.hotfix or where.stage.require_ci,
    describe=lambda _where, _item: "the release's commit green in CI",
    judge=_ci,
)
PREVIOUS_DEPLOY = Gate(
    "previous-deploy",
    "Deployed to the previous environment first",
    applies=stage_setting("require_previous_deploy"),
    describe=_describe_previous_deploy,
    judge=_previous_deploy,
)
