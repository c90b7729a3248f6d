"""GitHub deliveries applied to a project's releases: one transaction per delivery, every
change audited with the actor ``github:<login>``. ``domain.github`` reads a payload into a
fact; this module decides what the fact changes. GitHub logins are taken for Shipwise
people's names (the names api tokens and release authors carry).

Linking. A pull request belongs to the releases its body names (``Release: rel-1``
lines); with no such line, to the one release in progress whose ``branch`` is its head
branch (two are ambiguous: neither is linked); failing both, to a release that already
lists it (added through the API). A branch that feeds an environment (``dev``,
``staging``, ``main``) names no release: every change passes through it. Linking adds
the pull request to the release, through ``release_flow.change_content``.

A *work* pull request is one whose head is not an environment's branch (a feature, fix
or hotfix branch); a *promotion* pull request (``dev`` → ``staging``) carries work
already written. Only a work pull request adds its opener to the release's authors and
gives the release a commit.

Commits. A release's ``commit`` is the code being released; the rules keep it the code
people reviewed and never swap it for code nobody saw:

- a release without a commit takes the head of its work pull request (or, on a push to
  the release's own branch, the branch's new tip);
- new commits on that head (a ``push`` to the release's own branch, a work pull
  request's ``synchronize``) move the commit along only from the commit it had: a
  release pinned to another commit is left alone. Moving it is a content change, so the
  approvals, sign-offs and drills of the old code are withdrawn;
- when a pull request merges into an environment's branch and its merged head is the
  release's commit, the merge commit becomes the release's commit, *without* a content
  change: it carries exactly the reviewed head onto the branch (the domain already
  counts a pull request merged since as the same content), and it is what gets deployed
  there. CI results and deploys are judged per commit, so the merge commit must still
  pass CI and be deployed before the next gates pass. A merge of any other head leaves
  the commit alone, and the summary says so.

Approvals. A submitted, approving review records an approval when the reviewer is a code
owner (in the policy's ``code_owners``; with no list, any reviewer: GitHub's branch
protection decides who may review, as every developer reviews as a code owner through
the API), wrote neither the release nor the pull request, and reviewed the release's
commit (``commit_id``: a review of older code, or a replayed delivery, approves nothing
new). It is for the environment the pull request merges into (the one its base branch
feeds), else for the release's next stage; never for an environment the release already
reached. A request for changes is reported and records nothing (Shipwise has no veto
evidence: an approval the reviewer gave earlier stands until the content changes).

CI and deploys: ``github_ci``, in the order the events happened, not the order they
arrived.

Repeats. Every delivery but a ping must carry ``X-GitHub-Delivery`` (GitHub always sends
it; without it a repeat could not be recognised, so it is refused with 422). A delivery
whose id, or whose signed body, the project already received changes nothing and
answers as a duplicate with what the first one did. The claim is in the delivery's own
transaction: a delivery that failed is not remembered, and can be redelivered. Ids are
kept ``DELIVERY_RETENTION`` (GitHub redelivers only from the last few days); older ones
are forgotten by the next delivery to the project, after which the payload times
(``github_ci``) still keep an old CI result or deploy from overriding a newer one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from shipwise.domain import github, release_flow
from shipwise.domain.github import (
    CiStatus,
    DeploymentStatus,
    Ignored,
    Ping,
    PullRequestEdited,
    PullRequestInfo,
    PullRequestMerged,
    PullRequestOpened,
    PullRequestPushed,
    Push,
    ReviewState,
    ReviewSubmitted,
)
from shipwise.domain.releases import (
    ApproverRole,
    EvidenceKind,
    PullRequest,
    Release,
    ReleaseStatus,
)
from shipwise.server.ports import (
    Clocked,
    GitHubDelivery,
    GitHubDeliveryStore,
    ProjectStore,
    StoreOf,
)
from shipwise.server.services._common import project_or_404
from shipwise.server.services.errors import (
    Invalid,
    Unauthenticated,
    WebhookNotConfigured,
)
from shipwise.server.services.evidence import ApprovedTx, announce_approved, record_evidence_in
from shipwise.server.services.github_ci import on_ci, on_deploy
from shipwise.server.services.github_delivery import Delivery, DeliveryTx
from shipwise.server.services.release_news import ReleaseNews
from shipwise.server.services.release_policy import ReleasePolicy
from shipwise.server.services.upcoming import UpcomingNotice, UpcomingTx

__all__ = ["DELIVERY_RETENTION", "GitHubIntake", "IntakeSummary"]

SECRET_VARIABLE = "SHIPWISE_GITHUB_WEBHOOK_SECRET"  # noqa: S105 - its name, not a secret

# How long a delivery's id and body digest are remembered. GitHub redelivers (by hand or
# through its API) only deliveries of the past 3 days and never retries on its own, so
# 30 days covers every genuine repeat with room to spare, at one small row per delivery.
DELIVERY_RETENTION = timedelta(days=30)


class IntakeTx(
    UpcomingTx, ApprovedTx, DeliveryTx, ProjectStore, GitHubDeliveryStore, Clocked, Protocol
):
    """What one delivery touches: the project, its pipeline and policy, the delivery's
    receipt, and what its fact changes (``DeliveryTx``); stamped by the store's clock;
    the outbox that tells of a review's approval (and of an upcoming release)."""


@dataclass(frozen=True, slots=True)
class IntakeSummary:
    """What one delivery did (``applied``) and what it left alone, and why (``skipped``)."""

    project: str
    event: str
    delivery: str | None
    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    duplicate: bool = False  # the project had received it already: nothing changed


class GitHubIntake:
    def __init__(
        self,
        store: StoreOf[IntakeTx],
        policy: ReleasePolicy,
        secret: str | None = None,
        news: ReleaseNews | None = None,
        upcoming: UpcomingNotice | None = None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._secret = secret.encode() if secret else None
        self._news = news
        self._upcoming = upcoming

    def authenticate(self, body: bytes, signature: str | None) -> None:
        """Raise unless ``signature`` (``X-Hub-Signature-256``) is GitHub's signature of
        ``body`` under the configured secret. Called before anything else is read."""
        if self._secret is None:
            raise WebhookNotConfigured(
                f"GitHub webhooks are off: set {SECRET_VARIABLE} to the webhook's secret "
                "and restart the server"
            )
        if not signature:
            raise Unauthenticated(
                "no X-Hub-Signature-256 header: give the webhook in GitHub the secret set "
                f"in {SECRET_VARIABLE}"
            )
        if not github.verify_signature(self._secret, body, signature):
            raise Unauthenticated(
                "X-Hub-Signature-256 does not match the body: the webhook's secret in GitHub "
                f"is not the one in {SECRET_VARIABLE}"
            )

    def ping(self, project_key: str) -> None:
        """GitHub's hello when the webhook is created: 404 unless the project exists."""
        with self._store.read() as tx:
            project_or_404(tx, project_key)

    def receive(
        self, project_key: str, event: str, delivery: str | None, body: bytes
    ) -> IntakeSummary:
        """Apply one authenticated delivery to the project, all of it or nothing; a
        delivery the project already received changes nothing (``duplicate``)."""
        if delivery is None:
            raise Invalid(
                "no X-GitHub-Delivery header: Shipwise needs GitHub's delivery id to tell a "
                "repeated delivery from a new one (GitHub sends it with every delivery)",
                field="X-GitHub-Delivery",
            )
        try:
            fact = github.parse_event(event, body)
        except github.MalformedPayload as error:
            raise Invalid(f"this {event} delivery cannot be read: {error}", field="body") from None
        summary = IntakeSummary(project_key, event, delivery)
        digest = hashlib.sha256(body).hexdigest()
        with self._store.transaction() as tx:
            now = tx.now()  # the one time of this delivery: its receipt, records and evidence
            receipt = GitHubDelivery(delivery, event, digest, now)
            project = project_or_404(tx, project_key)
            earlier = tx.claim_delivery(project.id, receipt)
            if earlier is not None:
                return replace(summary, duplicate=True, skipped=_repeat(receipt, earlier))
            tx.forget_deliveries(project.id, now - DELIVERY_RETENTION)
            if isinstance(fact, Ignored | Ping):
                reason = fact.reason if isinstance(fact, Ignored) else "a ping changes nothing"
                tx.settle_delivery(project.id, delivery, (), (reason,))
                return replace(summary, skipped=(reason,))
            applying = Delivery(
                tx=tx,
                project=project,
                policy=self._policy.policy_for(tx, project),
                environments=tx.list_environments(project.id),
                now=now,
                actor=f"github:{fact.sender}",
                why=f"GitHub {event} delivery {delivery}",
            )
            _HANDLERS[type(fact)](applying, fact)
            self._tell_approvals(tx, applying)
            tx.settle_delivery(project.id, delivery, applying.applied, applying.skipped)
        return replace(summary, applied=tuple(applying.applied), skipped=tuple(applying.skipped))

    def _tell_approvals(self, tx: IntakeTx, d: Delivery) -> None:
        """A review's approval is told as one given through the API is: release.approved,
        and release.upcoming when it completes the production approvals gate."""
        for release, stage, reviewer in d.approved:
            if self._news is not None:
                where = (d.project, release)
                announce_approved(self._news, tx, reviewer, where, d.policy, (stage, d.now))
            if self._upcoming is not None:
                self._upcoming.after_approval(tx, d.project, release, d.policy, stage, d.now)


def _repeat(receipt: GitHubDelivery, earlier: GitHubDelivery) -> tuple[str, ...]:
    """The answer to a repeated delivery: which one it repeats, and what that one did."""
    same = "delivery" if earlier.delivery == receipt.delivery else "body as delivery"
    when = earlier.received_at.strftime("%Y-%m-%d %H:%M:%SZ")
    first = f"duplicate: the same {same} {earlier.delivery} ({earlier.event}) was received at "
    did = "; ".join(earlier.applied) or "nothing"
    return (f"{first}{when} and applied {did}; nothing changed",)


# -- pull requests ---------------------------------------------------------------------------


def _on_pull_request(d: Delivery, fact: PullRequestOpened | PullRequestEdited) -> None:
    _link(d, fact.pull)


def _on_pushed(d: Delivery, fact: PullRequestPushed) -> None:
    for release in _link(d, fact.pull):
        if d.is_work(fact.pull):
            _follow(d, release, fact.before, fact.after, f"new commits on #{fact.pull.number}")


def _on_merged(d: Delivery, fact: PullRequestMerged) -> None:
    pull = fact.pull
    for release in _link(d, pull):
        _carry_merge(d, release, pull)


def _link(d: Delivery, pull: PullRequestInfo) -> list[Release]:
    """The releases in progress ``pull`` belongs to, each with the pull request recorded."""
    return [_record_pull(d, release, pull) for release in _releases_of(d, pull)]


def _releases_of(d: Delivery, pull: PullRequestInfo) -> list[Release]:
    project_id, number = d.project.id, pull.number
    found: list[Release] = []
    if pull.release_keys:
        for key in pull.release_keys:
            release = d.tx.get_release(project_id, key)
            if release is None:
                d.skipped.append(
                    f"#{number} names {key}, which is not a release of {d.project.key}"
                )
            else:
                found.append(release)
    elif d.is_work(pull):
        on_branch = d.tx.releases_for_branch(project_id, pull.head_branch)
        in_progress = [r for r in on_branch if r.status is ReleaseStatus.IN_PROGRESS]
        if len(in_progress) > 1:
            keys = ", ".join(r.key for r in in_progress)
            d.skipped.append(
                f"#{number}: releases {keys} are all on branch {pull.head_branch}; "
                "say which with a `Release: <key>` line in its description"
            )
            return []
        found = in_progress
    if not found and not pull.release_keys:
        found = [r for r in d.tx.list_releases(project_id) if _lists(r, pull)]
    if not found and not d.skipped:
        d.skipped.append(
            f"#{number} ({pull.head_branch} → {pull.base_branch}) belongs to no release: "
            "name one with a `Release: <key>` line in its description"
        )
    linked: list[Release] = []
    for release in found:
        locked = d.tx.get_release(project_id, release.key, for_update=True) or release
        if locked.status is ReleaseStatus.IN_PROGRESS:
            linked.append(locked)
        else:
            d.skipped.append(f"{locked.key} is {locked.status.value}: #{number} changes nothing")
    return linked


def _lists(release: Release, pull: PullRequestInfo) -> bool:
    return release.status is ReleaseStatus.IN_PROGRESS and any(
        p.number == pull.number and p.url in {None, pull.url} for p in release.pull_requests
    )


def _record_pull(d: Delivery, release: Release, pull: PullRequestInfo) -> Release:
    """``release`` listing ``pull`` as it is now; a work pull request also gives a release
    without a commit its head, and its opener becomes one of the authors."""
    listed = next((p for p in release.pull_requests if p.number == pull.number), None)
    record = PullRequest(
        number=pull.number,
        title=pull.title,
        url=pull.url,
        head_branch=pull.head_branch,
        base_branch=pull.base_branch,
        merged=pull.merged or (listed is not None and listed.merged),
        merge_commit=pull.merge_commit or (listed.merge_commit if listed else None),
    )
    if listed is None:
        pulls = (*release.pull_requests, record)
    else:
        pulls = tuple(record if p.number == pull.number else p for p in release.pull_requests)
    changes: dict[str, Any] = {"pull_requests": pulls}
    done: list[str] = []
    if listed is None:
        done.append(f"linked #{pull.number} {pull.title!r}")
    if pull.merged and not (listed is not None and listed.merged):
        done.append(f"#{pull.number} merged into {pull.base_branch}")
    work = d.is_work(pull)
    if work and release.commit is None:
        changes["commit"] = pull.head_sha
        done.append(f"commit set to {pull.head_sha[:12]}, the head of #{pull.number}")
    changed = release_flow.change_content(release, now=d.now, **changes)
    if work and pull.author != changed.owner and pull.author not in changed.authors:
        changed = replace(changed, authors=(*changed.authors, pull.author))
        done.append(f"{pull.author}, who opened #{pull.number}, is an author")
    if changed == release:
        return release
    return d.save(release, changed, "; ".join(done) or f"#{pull.number} updated")


def _carry_merge(d: Delivery, release: Release, pull: PullRequestInfo) -> None:
    merge = pull.merge_commit
    environment = d.environment_fed_by(pull.base_branch)
    if merge is None or environment is None or _same(release.commit, merge):
        return
    if release.commit is None or not _same(release.commit, pull.head_sha):
        d.skipped.append(
            f"{release.key}: #{pull.number} merged {pull.head_sha[:12]}, not the release's "
            f"commit {_short(release.commit)}; the commit stays"
        )
        return
    carried = replace(release, commit=merge)  # the same content: see the module docstring
    d.save(
        release,
        carried,
        f"commit {merge[:12]}, the merge of #{pull.number} into {pull.base_branch} "
        f"(feeds {environment.key}); same content, CI and deploy needed for the new commit",
    )


def _follow(d: Delivery, release: Release, before: str | None, after: str, why: str) -> None:
    """Move ``release``'s commit from ``before`` to ``after`` if it was there (or had none)."""
    if _same(release.commit, after):
        return
    if release.commit is not None and not _same(release.commit, before):
        d.skipped.append(
            f"{release.key} stays at {_short(release.commit)}: the {why} moved "
            f"{_short(before)} → {after[:12]}, and the release was not at {_short(before)}"
        )
        return
    moved = release_flow.change_content(release, now=d.now, commit=after)
    old = _short(release.commit)
    d.save(release, moved, f"commit {old} → {after[:12]} ({why}); earlier approvals withdrawn")


def _on_push(d: Delivery, fact: Push) -> None:
    if d.environment_fed_by(fact.branch) is not None:
        d.skipped.append(f"{fact.branch} feeds an environment: a push there names no release")
        return
    releases = d.tx.releases_for_branch(d.project.id, fact.branch)
    in_progress = [r for r in releases if r.status is ReleaseStatus.IN_PROGRESS]
    if not in_progress:
        d.skipped.append(f"no release in progress is on branch {fact.branch}")
    for release in in_progress:
        locked = d.tx.get_release(d.project.id, release.key, for_update=True) or release
        _follow(d, locked, fact.before, fact.after, f"push to {fact.branch}")


# -- reviews ---------------------------------------------------------------------------------


def _on_review(d: Delivery, fact: ReviewSubmitted) -> None:
    for release in _link(d, fact.pull):
        problem = _review_problem(d, release, fact)
        if problem is not None:
            d.skipped.append(
                f"{release.key}: {fact.reviewer}'s review of #{fact.pull.number} {problem}"
            )
            continue
        stage = _approval_stage(d, release, fact.pull)
        if stage is None:
            d.skipped.append(
                f"{release.key}: {fact.reviewer}'s approval of #{fact.pull.number} is for no "
                f"stage ahead of it (it is in {release.stage or 'no environment'})"
            )
            continue
        roles = [ApproverRole.CODE_OWNER.value]
        data = {"roles": roles, "pull_request": fact.pull.number, "commit": fact.commit_id}
        record_evidence_in(
            d.tx, d.witness(fact.reviewer), release, EvidenceKind.APPROVAL, stage, d.now, data
        )
        d.applied.append(f"{release.key}: {fact.reviewer} approved it for {stage} (code owner)")
        d.approved.append((release, stage, fact.reviewer))


def _review_problem(d: Delivery, release: Release, fact: ReviewSubmitted) -> str | None:
    """Why the review records no approval, or None when it does."""
    reviewer, owners = fact.reviewer, d.policy.code_owners
    if fact.state is ReviewState.CHANGES_REQUESTED:
        return (
            "requests changes: recorded nothing (Shipwise has no veto; an earlier approval "
            "stands until the release changes)"
        )
    if reviewer in (release.owner, *release.authors) or reviewer == fact.pull.author:
        return f"does not count: {reviewer} wrote the change and cannot approve it"
    if owners and reviewer not in owners:
        return f"does not count: {reviewer} is not a code owner ({', '.join(owners)})"
    if release.commit is None or not _same(release.commit, fact.commit_id):
        return (
            f"saw {fact.commit_id[:12]}, not the release's commit {_short(release.commit)}: "
            "ask for a review of the current head"
        )
    return None


def _approval_stage(d: Delivery, release: Release, pull: PullRequestInfo) -> str | None:
    """The environment ``pull`` merges into, else the release's next stage; None when
    the release is already there or past it."""
    order = [s.environment for s in d.policy.stages]
    fed = d.environment_fed_by(pull.base_branch)
    if fed is None or fed.key not in order:
        return ReleasePolicy.next_stage(release, d.policy)
    reached = order.index(release.stage) if release.stage in order else -1
    return fed.key if order.index(fed.key) > reached else None


_HANDLERS: dict[type, Callable[[Delivery, Any], None]] = {
    PullRequestOpened: _on_pull_request,
    PullRequestEdited: _on_pull_request,
    PullRequestPushed: _on_pushed,
    PullRequestMerged: _on_merged,
    ReviewSubmitted: _on_review,
    Push: _on_push,
    CiStatus: on_ci,
    DeploymentStatus: on_deploy,
}

# -- small helpers ---------------------------------------------------------------------------


def _same(one: str | None, other: str | None) -> bool:
    # Both are full lower-case SHAs (domain/commits.py): the same commit is equality.
    return one is not None and one == other


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "(none)"
