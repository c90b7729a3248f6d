"""Ready-made guardrails: named metric templates a team picks instead of writing queries.

A ``MetricTemplate`` says what it watches, which way is worse, and has one ``Recipe`` per
source it knows: the metric definition it makes there (the source's ``kind`` and its
settings, with ``${name}`` placeholders for what only the team knows, such as a
Prometheus job label), what to ask for (``Ask``), a default rule, and whether that source
can compare users with the feature against users without it (``compares_arms``: only
where the source splits its numbers by flag, today SDK events) or can only hold a
threshold (Vercel's drained numbers, in Vercel's units: milliseconds, a share of 5xx).
Recipes for sources Shipwise does not read yet are ``coming``: listed, so a team sees
what is planned, and refused when picked.

Whether a source is *configured* on a server (``zendesk`` is registered by
``server.metrics`` once it exists) is not the domain's business: the service asks the
server's metric sources.

Metric names checked against the exporters' documentation: node_exporter's
``node_cpu_seconds_total`` and ``node_memory_{MemAvailable,MemTotal}_bytes``;
postgres_exporter's ``pg_stat_activity_count``, ``pg_settings_max_connections`` and, from
its ``stat_statements`` collector (off by default), ``pg_stat_statements_seconds_total``
and ``pg_stat_statements_calls_total``: sums, not a histogram, so the database template
watches the mean time per query (postgres_exporter has no percentiles). HTTP recipes
assume the Prometheus client libraries' conventional ``http_request_duration_seconds``
histogram and ``http_requests_total`` counter with a ``code`` label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any

from shipwise.domain.guardrails import Compare, Direction, Guardrail, Rule, Threshold

__all__ = [
    "TEMPLATES",
    "Ask",
    "MetricTemplate",
    "Recipe",
    "TemplateProblem",
    "fill",
    "missing",
    "template_named",
]

HIGHER = Direction.HIGHER_IS_WORSE
LOWER = Direction.LOWER_IS_WORSE


class TemplateProblem(ValueError):
    """A template picked or filled wrongly: ``field`` names the culprit as the API does
    (``template``, ``source``, ``settings.job``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Ask:
    """A setting only the team knows. ``default``: used when not given (then never asked
    for); ``pattern``: what a value must match (a label value inside PromQL's double
    quotes must not close them)."""

    name: str
    help: str
    example: str
    default: str | None = None
    pattern: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None

    def problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return f"write {self.help} as text, e.g. {self.example}"
        text = str(value)
        if not text.strip():
            return f"required: {self.help}, e.g. {self.example}"
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            return f"{text!r} is not {self.help}, e.g. {self.example}"
        return None


@dataclass(frozen=True, slots=True)
class Recipe:
    """How one source watches a template's signal."""

    source: str
    settings: Mapping[str, Any]
    rule: Rule
    asks: tuple[Ask, ...] = ()
    compares_arms: bool = False
    coming: bool = False
    note: str = ""

    def placeholders(self) -> set[str]:
        return {
            name
            for value in self.settings.values()
            if isinstance(value, str)
            for name in Template(value).get_identifiers()
        }


@dataclass(frozen=True, slots=True)
class MetricTemplate:
    name: str
    watches: str  # in words, for the list and the metric's description
    direction: Direction
    recipes: tuple[Recipe, ...] = field(default_factory=tuple)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(recipe.source for recipe in self.recipes)

    def recipe(self, source: str) -> Recipe:
        for recipe in self.recipes:
            if recipe.source == source:
                if recipe.coming:
                    raise TemplateProblem(
                        f"template {self.name!r} from {source!r} is coming: Shipwise cannot "
                        f"read {source} yet; choose one of {', '.join(self.ready_sources())}",
                        field="source",
                    )
                return recipe
        raise TemplateProblem(
            f"template {self.name!r} has no recipe for source {source!r}; "
            f"choose one of {', '.join(self.ready_sources())}",
            field="source",
        )

    def ready_sources(self) -> list[str]:
        return [r.source for r in self.recipes if not r.coming]

    def guardrail(self, metric: str, source: str) -> Guardrail:
        """The default guardrail a plan may start from, for the metric made from
        ``source``'s recipe."""
        return Guardrail(metric, self.direction, self.recipe(source).rule)


def missing(recipe: Recipe, given: Iterable[str]) -> list[Ask]:
    """What the team must still give: required asks not among ``given``."""
    have = set(given)
    return [ask for ask in recipe.asks if ask.required and ask.name not in have]


def fill(recipe: Recipe, values: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe's settings with ``values`` in their placeholders. A value that is no
    ask overrides (or adds) a setting of that name, for the source to check as usual
    (``headers``, ``interval``)."""
    asks = {ask.name: ask for ask in recipe.asks}
    absent = missing(recipe, values)
    if absent:
        names = ", ".join(ask.name for ask in absent)
        raise TemplateProblem(
            f"{recipe.source} needs {names}: "
            + "; ".join(f"{ask.name}: {ask.help}, e.g. {ask.example}" for ask in absent),
            field=f"settings.{absent[0].name}",
        )
    filled_in: dict[str, str] = {}
    for name, ask in asks.items():
        value = values.get(name, ask.default)
        problem = ask.problem(value)
        if problem is not None:
            raise TemplateProblem(f"settings.{name}: {problem}", field=f"settings.{name}")
        filled_in[name] = str(value)
    settings = {
        key: Template(value).substitute(filled_in) if isinstance(value, str) else value
        for key, value in recipe.settings.items()
    }
    settings |= {key: value for key, value in values.items() if key not in asks}
    return settings


# --- the catalog -------------------------------------------------------------------------

_LABEL = r'[^"\\\n]+'  # a value inside PromQL's double quotes
URL = Ask("url", "Prometheus's base URL", "http://prometheus:9090")


def _job(what: str, example: str) -> Ask:
    return Ask("job", f"the job label {what} is scraped under", example, pattern=_LABEL)


def _prometheus(query: str, rule: Rule, job: Ask, note: str = "") -> Recipe:
    return Recipe("prometheus", {"url": "${url}", "query": query}, rule, (URL, job), note=note)


def _vercel(measure: str, rule: Rule, note: str) -> Recipe:
    return Recipe("vercel", {"measure": measure}, rule, note=note)


# Drain records carry no flag: Vercel recipes hold a threshold. ``--set route=/checkout``
# narrows one to a route, ``--set environment=preview`` to another Vercel environment.
_SPEED_INSIGHTS = "from a Speed Insights drain to /webhooks/vercel/PROJECT, over the step"
_LOGS = "from a log (or trace) drain to /webhooks/vercel/PROJECT, over the step"
_TRACES = "from a trace drain (JSON) to /webhooks/vercel/PROJECT, over the step"
_API = _job("your API", "api")
_NODE = _job("node_exporter", "node")
_POSTGRES = _job("postgres_exporter", "postgres")
_EVENT = Ask("event", "the event name SDKs track", "error", default="error")
_SENTRY = Recipe(
    "sentry",
    {
        "organization": "${organization}",
        "project": "${project}",
        "token_env": "${token_env}",
        "split": "flag",
        "environment": "${environment}",
    },
    Compare(0.1),
    (
        Ask("organization", "the Sentry organization's slug", "acme", pattern=r"[A-Za-z0-9_-]+"),
        Ask("project", "the Sentry project's id", "4504112277", pattern=r"[0-9]+"),
        Ask(
            "token_env",
            "the environment variable with a Sentry auth token (org:read)",
            "SENTRY_AUTH_TOKEN",
            default="SENTRY_AUTH_TOKEN",
        ),
        Ask(
            "environment",
            "Sentry's environment for the plan's ({environment}: the same name as Shipwise's)",
            "production",
            default="{environment}",
        ),
    ),
    compares_arms=True,
    note="error events by the flag's recorded value, per exposure: the SDK must record "
    "evaluations in Sentry (Client(..., sentry=True))",
)
_CLOUD_LOGGING = Recipe(
    "cloud-logging",
    {
        "project": "${project}",
        "credentials_env": "${credentials_env}",
        "filter": "${filter}",
        "arm_field": "${arm_field}",
    },
    Compare(0.1),
    (
        Ask("project", "the Google Cloud project of the Firebase app", "acme-prod"),
        Ask(
            "credentials_env",
            "the environment variable holding a service-account JSON key (Logs Viewer)",
            "FIREBASE_LOGGING_KEY",
        ),
        Ask(
            "filter",
            "the Cloud Logging filter of an error entry",
            'severity>=ERROR AND resource.type="cloud_function"',
            default="severity>=ERROR",
        ),
        Ask(
            "arm_field",
            "the entry's field where the team's logger writes the flag's value",
            "jsonPayload.flags.{flag}",
            default="jsonPayload.flags.{flag}",
        ),
    ),
    compares_arms=True,
    note="error entries by the flag's value the logger wrote, per exposure (Firebase logs "
    "are in Cloud Logging)",
)
_ZENDESK = Recipe(
    "zendesk",
    {
        "subdomain": "${subdomain}",
        "email": "${email}",
        "token_env": "${token_env}",
        "query": "${query}",
    },
    Threshold(10),
    (
        Ask("subdomain", "your Zendesk subdomain", "acme"),
        Ask("email", "the Zendesk agent the API token belongs to", "ops@acme.example"),
        Ask(
            "token_env",
            "the environment variable with the Zendesk API token",
            "ZENDESK_API_TOKEN",
            default="ZENDESK_API_TOKEN",
        ),
        Ask("query", "Zendesk search terms for the tickets", "tags:checkout"),
    ),
    note="counts tickets created in the window",
)

TEMPLATES: tuple[MetricTemplate, ...] = (
    MetricTemplate(
        "error-rate",
        "errors per exposure, with and without the feature (SDK events, Sentry, Firebase logs)",
        HIGHER,
        (
            Recipe(
                "sdk",
                {"event": "${event}", "measure": "rate"},
                Compare(0.1),
                (_EVENT,),
                compares_arms=True,
            ),
            _SENTRY,
            _CLOUD_LOGGING,
        ),
    ),
    MetricTemplate(
        "lcp-p75",
        "p75 Largest Contentful Paint in milliseconds (good: 2,500 ms or less)",
        HIGHER,
        (_vercel("lcp", Threshold(2500), _SPEED_INSIGHTS),),
    ),
    MetricTemplate(
        "inp-p75",
        "p75 Interaction to Next Paint in milliseconds (good: 200 ms or less)",
        HIGHER,
        (_vercel("inp", Threshold(200), _SPEED_INSIGHTS),),
    ),
    MetricTemplate(
        "api-p95",
        "API response time, 95th percentile (seconds from Prometheus, ms from Vercel)",
        HIGHER,
        (
            _prometheus(
                "histogram_quantile(0.95, sum by (le) "
                '(rate(http_request_duration_seconds_bucket{job="${job}"}[5m])))',
                Threshold(0.5),
                _API,
            ),
            _vercel("request-duration", Threshold(500), _TRACES + "; in milliseconds"),
        ),
    ),
    MetricTemplate(
        "api-5xx-share",
        "the share of API answers that are server errors (5xx)",
        HIGHER,
        (
            _prometheus(
                'sum(rate(http_requests_total{job="${job}",code=~"5.."}[5m]))'
                ' / sum(rate(http_requests_total{job="${job}"}[5m]))',
                Threshold(0.01),
                _API,
            ),
            _vercel("5xx-share", Threshold(0.01), _LOGS),
        ),
    ),
    MetricTemplate(
        "cpu",
        "CPU busy share across the hosts (node_exporter)",
        HIGHER,
        (
            _prometheus(
                '1 - avg(rate(node_cpu_seconds_total{job="${job}",mode="idle"}[5m]))',
                Threshold(0.8),
                _NODE,
            ),
        ),
    ),
    MetricTemplate(
        "memory",
        "memory in use as a share of the hosts' total (node_exporter)",
        HIGHER,
        (
            _prometheus(
                '1 - sum(node_memory_MemAvailable_bytes{job="${job}"})'
                ' / sum(node_memory_MemTotal_bytes{job="${job}"})',
                Threshold(0.9),
                _NODE,
            ),
        ),
    ),
    MetricTemplate(
        "db-query-time",
        "mean database query time in seconds (postgres_exporter's pg_stat_statements)",
        HIGHER,
        (
            _prometheus(
                'sum(rate(pg_stat_statements_seconds_total{job="${job}"}[5m]))'
                ' / sum(rate(pg_stat_statements_calls_total{job="${job}"}[5m]))',
                Threshold(0.1),
                _POSTGRES,
                note="postgres_exporter has no percentiles: a mean over all statements; "
                "start it with --collector.stat_statements",
            ),
        ),
    ),
    MetricTemplate(
        "db-connections",
        "database connections as a share of max_connections (postgres_exporter)",
        HIGHER,
        (
            _prometheus(
                'sum(pg_stat_activity_count{job="${job}"})'
                ' / sum(pg_settings_max_connections{job="${job}"})',
                Threshold(0.8),
                _POSTGRES,
            ),
        ),
    ),
    MetricTemplate(
        "tickets-per-hour",
        "support tickets in the last hour",
        HIGHER,
        (
            _ZENDESK,
            Recipe(
                "pushed",
                {"window": "1h"},
                Threshold(10),
                note="push each ticket: shipwise metric push NAME 1",
            ),
        ),
    ),
    MetricTemplate(
        "conversion",
        "conversions per exposure with and without the feature (SDK track)",
        LOWER,
        (
            Recipe(
                "sdk",
                {"event": "${event}", "measure": "rate"},
                Compare(0.05),
                (Ask("event", "the event name SDKs track on a conversion", "purchase"),),
                compares_arms=True,
            ),
        ),
    ),
)
_BY_NAME = {template.name: template for template in TEMPLATES}


def template_named(name: str) -> MetricTemplate:
    found = _BY_NAME.get(name)
    if found is None:
        raise TemplateProblem(
            f"no metric template {name!r}; choose one of {', '.join(_BY_NAME)}",
            field="template",
        )
    return found
