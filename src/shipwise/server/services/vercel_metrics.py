"""The ``vercel`` metric source: guardrails that read what Vercel's drains delivered.

Unlike the pulled sources, nothing is fetched at check time: drains post their records to
``/webhooks/vercel/{project}`` as they happen and Shipwise keeps them
(``ports.vercel``), so a check reads its window from Shipwise's own store, inside the
observation's transaction.

========================  ===================================================  ==========
``measure``               the number read over the step's window               default q
========================  ===================================================  ==========
lcp, inp, cls, ttfb, fcp  a percentile of Speed Insights' web-vital values       p75
request-duration          a percentile of the trace drain's request durations    p95
5xx-share                 the share of requests answered with a 5xx status
event                     how many Web Analytics custom events named ``event``
========================  ===================================================  ==========

Request durations come from trace drains only (server spans; Vercel's log schema has
none). The 5xx share counts the log drain's requests, which cover every answer; a team
that drains traces alone gets it from the server spans; never both at once, so a
request drained both ways counts once (``_answers``).

Values are Vercel's own units: milliseconds (CLS has none). Optional settings narrow the
records: ``route`` (the route pattern, e.g. ``/blog/[slug]``, or the path) and
``environment`` (Vercel's, ``production`` unless said). Drain records carry no flag, so
this source holds a threshold: it never compares users with and without the feature.
A window without records is ``Reading(None)``: inconclusive, never healthy, since silence
may as well be a drain that stopped delivering.

``compare: deploys`` judges a release shipped without a flag split (a revert, a plain
deploy) before and after instead: the records of the Vercel deployments linked to the
commit now deployed to the plan's environment (its newest successful Shipwise deploy)
are the treatment, those linked to the commit deployed before it the control, read as
a ``Comparison`` that a ``Compare`` guardrail judges (a ``Threshold`` one judges the
new deployment's arm alone). Vitals and request durations compare means (``quantile``
does not apply); ``5xx-share`` compares the share of 5xx answers per request; event
counts have no denominator to compare by and are refused. Deploys link to their Vercel
deployments through ``shipwise deploy report --vercel-deployment dpl_...``; without
two linked deploys the metric is unreadable and says so (at 100% too, where it holds
the release); nothing from the deploy before is inconclusive, never healthy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from shipwise.domain.guardrails import (
    DEPLOYS,
    ArmStats,
    Comparison,
    Observation,
    Reading,
    Unreadable,
)
from shipwise.server.ports import MetricDefinition, MetricWindow
from shipwise.server.ports.releases import DeployHistory
from shipwise.server.ports.vercel import (
    EVENT,
    LOG_REQUEST,
    REQUEST,
    TRACE_SPAN,
    VITAL,
    DrainQuery,
    VercelDrainStore,
)

__all__ = ["MEASURES", "VERCEL", "read_vercel", "vercel_problems"]

VERCEL = "vercel"
DEFAULT_ENVIRONMENT = "production"


@dataclass(frozen=True, slots=True)
class Measure:
    kind: str  # the drain record kind it reads (ports.vercel)
    name: str | None  # the record name; None: the definition's ``event``
    quantile: float | None  # the default percentile; None: not a percentile


MEASURES: dict[str, Measure] = {
    "lcp": Measure(VITAL, "LCP", 0.75),
    "inp": Measure(VITAL, "INP", 0.75),
    "cls": Measure(VITAL, "CLS", 0.75),
    "ttfb": Measure(VITAL, "TTFB", 0.75),
    "fcp": Measure(VITAL, "FCP", 0.75),
    "request-duration": Measure(REQUEST, TRACE_SPAN, 0.95),
    "5xx-share": Measure(REQUEST, LOG_REQUEST, None),  # or TRACE_SPAN: see _answers
    "event": Measure(EVENT, None, None),
}
SETTINGS = frozenset({"measure", "quantile", "route", "environment", "event", "compare"})
MAX_TEXT = 300
# ``compare`` can name one thing: DEPLOYS (the Comparison basis it gives)


class VercelReadTx(VercelDrainStore, DeployHistory, Protocol):
    """What reading a ``vercel`` metric needs: the drained records, and for
    ``compare: deploys`` which commits were deployed when."""


def vercel_problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with a ``vercel`` definition's settings, as (field, message)."""
    problems: list[tuple[str, str]] = []
    measure = settings.get("measure")
    found = MEASURES.get(measure) if isinstance(measure, str) else None
    if found is None:
        problems.append(("settings.measure", f"one of {', '.join(MEASURES)}, got {measure!r}"))
    if "quantile" in settings:
        quantile = settings["quantile"]
        if found is not None and found.quantile is None:
            problems.append(
                ("settings.quantile", f"measure {measure!r} is not a percentile; leave it out")
            )
        elif (
            isinstance(quantile, bool)
            or not isinstance(quantile, int | float)
            or not 0 < quantile < 1
        ):
            problems.append(
                ("settings.quantile", f"a number between 0 and 1 (0.75 for p75), got {quantile!r}")
            )
    if found is not None and found.kind == EVENT:
        if _text(settings.get("event")) is None:
            problems.append(
                ("settings.event", 'name the Web Analytics custom event, e.g. "signup"')
            )
    elif "event" in settings:
        problems.append(("settings.event", "only measure 'event' takes an event name"))
    problems += _compare_problems(settings, found)
    for key, example in (("route", "/checkout"), ("environment", "production")):
        if key in settings and _text(settings[key]) is None:
            problems.append(
                (f"settings.{key}", f"text of at most {MAX_TEXT} characters, e.g. {example}")
            )
    for key in sorted(set(settings) - SETTINGS):
        problems.append(
            (
                f"settings.{key}",
                f"unknown setting; vercel metrics take {', '.join(sorted(SETTINGS))}",
            )
        )
    return problems


def _compare_problems(settings: Mapping[str, Any], found: Measure | None) -> list[tuple[str, str]]:
    if "compare" not in settings:
        return []
    if settings["compare"] != DEPLOYS:
        return [
            (
                "settings.compare",
                f"only 'deploys' (this deploy's records against the one before), "
                f"got {settings['compare']!r}",
            )
        ]
    if found is None:
        return []
    if found.kind == EVENT:
        return [
            (
                "settings.compare",
                "event counts have no denominator to compare deploys by; hold them "
                "against a threshold, or compare 5xx-share, request-duration or a vital",
            )
        ]
    if "quantile" in settings and found.quantile is not None:
        return [
            (
                "settings.quantile",
                "compare: deploys compares the deployments' means; leave quantile out",
            )
        ]
    return []


def read_vercel(
    tx: VercelReadTx, project_id: int, definition: MetricDefinition, window: MetricWindow
) -> Observation:
    """The definition's number over the window, from the stored drain records. ``sample``
    is how many records it rests on; none at all is ``Reading(None)``. With ``compare:
    deploys``, the new deployment's records against the previous one's."""
    settings = definition.settings
    measure = MEASURES[str(settings["measure"])]
    query = DrainQuery(
        project_id,
        measure.kind,
        measure.name or str(settings["event"]).strip(),
        window.start,
        window.end,
        route=_text(settings.get("route")),
        environment=_text(settings.get("environment")) or DEFAULT_ENVIRONMENT,
    )
    if settings.get("compare") == DEPLOYS:
        return _compare_deploys(tx, measure, query, window)
    if measure.quantile is not None:
        quantile = float(settings.get("quantile", measure.quantile))
        value, values = tx.drain_percentile(query, quantile)
        return Reading(value if values else None, float(values))
    if measure.kind == REQUEST:
        ((count, server_errors),) = _answers(tx, query)
    else:
        count, server_errors = tx.drain_counts(query)
    if not count:
        return Reading(None, 0.0)
    if measure.kind == REQUEST:  # 5xx-share
        return Reading(server_errors / count, float(count))
    return Reading(float(count), float(count))


def _compare_deploys(
    tx: VercelReadTx, measure: Measure, query: DrainQuery, window: MetricWindow
) -> Observation:
    """The records of the deployments serving the commit now deployed (over the step's
    window) against those of the commit deployed before it."""
    environment = window.environment
    deploys = tx.recent_deploys(query.project_id, environment, 2)
    report = (
        f"report each deploy with `shipwise deploy report -e {environment} --ref COMMIT "
        f"--vercel-deployment dpl_...`"
    )
    if len(deploys) < 2:
        what = (
            f"only {deploys[0][0][:12]} has been deployed to {environment}"
            if deploys
            else f"no successful deploy to {environment} is recorded"
        )
        return Unreadable(
            f"{what}; comparing deploys needs this one and the one before: {report}",
            basis=DEPLOYS,  # it holds a release at 100% (rollout.judge_all)
        )
    (new_commit, deployed_at), (old_commit, _) = deploys
    new = tx.vercel_deployments(query.project_id, environment, new_commit)
    old = tx.vercel_deployments(query.project_id, environment, old_commit)
    for commit, linked in ((new_commit, new), (old_commit, old)):
        if not linked:
            return Unreadable(
                f"no Vercel deployment is linked to {commit[:12]}, deployed to "
                f"{environment}: {report}",
                basis=DEPLOYS,
            )
    after = replace(query, deployments=new)
    # "Before" is the previous deployment's records in as long a span as the step's
    # window, ending when the new commit began serving (a CI re-run reporting it again
    # does not move that: ``recent_deploys``): both arms then cover as much traffic time
    # (a day's rhythm weighs alike on each). Records older than the drain retention are
    # pruned, so a span longer than that reads what is kept.
    length = window.end - window.start
    before = replace(query, since=deployed_at - length, until=deployed_at, deployments=old)
    if measure.kind == REQUEST and measure.quantile is None:  # 5xx-share
        (requests, failed), (was_requests, was_failed) = _answers(tx, after, before)
        return Comparison(
            "rate",
            ArmStats(float(requests), float(failed)),
            ArmStats(float(was_requests), float(was_failed)),
            basis=DEPLOYS,
        )
    now, was = tx.drain_moments(after), tx.drain_moments(before)
    return Comparison(
        "mean",
        ArmStats(float(now.count), float(now.count), now.total, now.total_sq),
        ArmStats(float(was.count), float(was.count), was.total, was.total_sq),
        basis=DEPLOYS,
    )


def _answers(tx: VercelDrainStore, *queries: DrainQuery) -> list[tuple[int, int]]:
    """Each query's requests and 5xx answers, all from one drain: the log drain's, which
    sees every answer (cache hits too); the trace drain's server spans only when no query
    has a log request (a team that drains traces alone). Never the sum: a request drained
    both ways would count twice, and a comparison's arms must count alike."""
    logs = [tx.drain_counts(replace(query, name=LOG_REQUEST)) for query in queries]
    if any(count for count, _ in logs):
        return logs
    return [tx.drain_counts(replace(query, name=TRACE_SPAN)) for query in queries]


def _text(value: Any) -> str | None:
    """A non-blank string of reasonable length, stripped; else None."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        return None
    return value.strip()
