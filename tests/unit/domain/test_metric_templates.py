"""The metric template catalog: every placeholder is asked for, arms are compared only
where the source splits by flag, and filling names what is missing or wrong."""

from __future__ import annotations

import pytest

from shipwise.domain.guardrails import Compare, Direction, Threshold
from shipwise.domain.metric_templates import (
    TEMPLATES,
    MetricTemplate,
    Recipe,
    TemplateProblem,
    fill,
    missing,
    template_named,
)

RECIPES = [(t, r) for t in TEMPLATES for r in t.recipes]
IDS = [f"{t.name}-{r.source}" for t, r in RECIPES]


def _recipe(template: str, source: str) -> Recipe:
    return template_named(template).recipe(source)


def test_catalog__names_every_signal_the_process_lists() -> None:
    names = {t.name for t in TEMPLATES}
    assert names == {
        "error-rate",
        "lcp-p75",
        "inp-p75",
        "api-p95",
        "api-5xx-share",
        "cpu",
        "memory",
        "db-query-time",
        "db-connections",
        "tickets-per-hour",
        "conversion",
    }
    assert set(template_named("error-rate").sources) == {"sdk", "sentry", "cloud-logging"}
    assert set(template_named("tickets-per-hour").sources) == {"zendesk", "pushed"}


@pytest.mark.parametrize(("template", "recipe"), RECIPES, ids=IDS)
def test_recipe__every_placeholder__is_asked_for(template: object, recipe: Recipe) -> None:
    assert recipe.placeholders() <= {ask.name for ask in recipe.asks}
    assert {ask.name for ask in recipe.asks} <= recipe.placeholders()


@pytest.mark.parametrize(("template", "recipe"), RECIPES, ids=IDS)
def test_recipe__compares_arms__only_where_the_source_splits_by_flag(
    template: object, recipe: Recipe
) -> None:
    splits = (
        recipe.source == "sdk"
        or (recipe.source == "sentry" and recipe.settings.get("split") == "flag")
        or (recipe.source == "cloud-logging" and "arm_field" in recipe.settings)
    )
    assert recipe.compares_arms == splits
    assert isinstance(recipe.rule, Compare) == recipe.compares_arms


def test_fill__prometheus_job__lands_inside_the_query() -> None:
    settings = fill(_recipe("cpu", "prometheus"), {"url": "http://prom:9090", "job": "node"})
    assert settings == {
        "url": "http://prom:9090",
        "query": '1 - avg(rate(node_cpu_seconds_total{job="node",mode="idle"}[5m]))',
    }


def test_fill__missing_settings__names_each_with_an_example() -> None:
    recipe = _recipe("api-p95", "prometheus")
    assert [a.name for a in missing(recipe, {"url"})] == ["job"]
    with pytest.raises(TemplateProblem) as raised:
        fill(recipe, {})
    assert raised.value.field == "settings.url"
    assert "url" in raised.value.message
    assert "job" in raised.value.message
    assert "e.g. api" in raised.value.message


def test_fill__a_label_value_that_closes_the_quotes__is_refused() -> None:
    with pytest.raises(TemplateProblem) as raised:
        fill(_recipe("cpu", "prometheus"), {"url": "http://p:9090", "job": 'x"} or vector(1) #'})
    assert raised.value.field == "settings.job"


def test_fill__a_default__is_used_and_other_keys_override_settings() -> None:
    settings = fill(
        _recipe("error-rate", "sentry"),
        {"organization": "acme", "project": 42, "interval": "1m"},
    )
    assert settings["token_env"] == "SENTRY_AUTH_TOKEN"
    assert settings["project"] == "42"
    assert settings["interval"] == "1m"
    assert fill(_recipe("error-rate", "sdk"), {}) == {"event": "error", "measure": "rate"}


def test_recipe__a_coming_source__is_refused_by_name() -> None:
    planned = Recipe("datadog", {"query": "errors"}, Threshold(1), coming=True)
    template = MetricTemplate("errors", "errors", Direction.HIGHER_IS_WORSE, (planned,))
    with pytest.raises(TemplateProblem) as raised:
        template.recipe("datadog")
    assert raised.value.field == "source"
    assert "coming" in raised.value.message
    assert "datadog" in raised.value.message


@pytest.mark.parametrize(
    ("template", "measure", "limit"),
    [
        ("lcp-p75", "lcp", 2500),
        ("inp-p75", "inp", 200),
        ("api-p95", "request-duration", 500),
        ("api-5xx-share", "5xx-share", 0.01),
    ],
)
def test_vercel_recipes__are_ready__holding_a_threshold_in_vercels_units(
    template: str, measure: str, limit: float
) -> None:
    recipe = _recipe(template, "vercel")
    assert not recipe.coming
    assert fill(recipe, {}) == {"measure": measure}
    assert template_named(template).guardrail("m", "vercel").rule == Threshold(limit)
    assert not recipe.compares_arms  # drain records carry no flag


def test_fill__vercel_route__narrows_the_recipe_to_one_route() -> None:
    settings = fill(_recipe("lcp-p75", "vercel"), {"route": "/checkout"})
    assert settings == {"measure": "lcp", "route": "/checkout"}


def test_recipe__a_source_without_a_recipe__names_the_choices() -> None:
    with pytest.raises(TemplateProblem) as raised:
        template_named("cpu").recipe("sdk")
    assert raised.value.field == "source"
    assert "prometheus" in raised.value.message


def test_template_named__unknown__names_the_choices() -> None:
    with pytest.raises(TemplateProblem) as raised:
        template_named("latency")
    assert raised.value.field == "template"
    assert "api-p95" in raised.value.message


def test_guardrail__conversion__is_lower_is_worse_compared_between_arms() -> None:
    guardrail = template_named("conversion").guardrail("checkout", "sdk")
    assert guardrail.direction is Direction.LOWER_IS_WORSE
    assert guardrail.rule == Compare(0.05)
    assert template_named("cpu").guardrail("cpu", "prometheus").rule == Threshold(0.8)
