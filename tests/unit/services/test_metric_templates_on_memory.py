"""Metrics defined from templates on the memory store, through the catalog the server
wires with its real metric sources: every recipe this server reads makes a definition
its source accepts; a recipe it cannot read is refused by name and saves nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tests.support.cloud_logging_standin import service_account_key
from tests.unit.services.world import SteppingClock

from shipwise.domain.metric_templates import TEMPLATES, Recipe
from shipwise.server.bootstrap import wire_services
from shipwise.server.metrics import pulled_sources
from shipwise.server.notify.log import LogNotifier
from shipwise.server.ports.memory import MemoryStore
from shipwise.server.services.errors import Invalid
from shipwise.server.services.metric_catalog import MetricCatalog
from shipwise.server.services.metric_templates import MetricTemplates
from shipwise.server.services.principal import SYSTEM
from shipwise.server.storage.bus import LocalBus

PROJECT = "shop"
RECIPES = [(t.name, r) for t in TEMPLATES for r in t.recipes]
IDS = [f"{name}-{r.source}" for name, r in RECIPES]


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch) -> MetricCatalog:
    # The variables the recipes' token_env defaults name, as a server would have them.
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "sntrys_test")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "zendesk-test")
    key = service_account_key("https://oauth2.googleapis.com/token")
    monkeypatch.setenv("FIREBASE_LOGGING_KEY", json.dumps(key))  # the recipe's example
    bus = LocalBus()
    store = MemoryStore(SteppingClock(datetime(2026, 3, 2, 9, tzinfo=UTC)), bus)
    wired = wire_services(store, bus, {"log": LogNotifier()}, pulled_sources())
    wired.projects.create(SYSTEM, PROJECT)
    return wired.metric_catalog


@pytest.mark.parametrize(("template", "recipe"), RECIPES, ids=IDS)
def test_define__each_recipe__is_accepted_where_this_server_reads_its_source(
    catalog: MetricCatalog, template: str, recipe: Recipe
) -> None:
    templates = MetricTemplates(catalog)
    values = {ask.name: ask.example for ask in recipe.asks}
    name = f"{template}.{recipe.source}"
    if recipe.coming or recipe.source not in {"sdk", "pushed", "vercel", *pulled_sources()}:
        with pytest.raises(Invalid) as refused:
            templates.define(SYSTEM, PROJECT, name, template, recipe.source, values)
        assert refused.value.field == "source"
        assert recipe.source in str(refused.value)
        assert catalog.all(SYSTEM, PROJECT) == []
        return
    saved = templates.define(SYSTEM, PROJECT, name, template, recipe.source, values)
    assert saved.source == recipe.source
    assert "$" not in str(saved.settings)
    assert catalog.get(SYSTEM, PROJECT, name).description  # what it watches, in words


def test_all__marks_coming_and_unconfigured_sources_unavailable(catalog: MetricCatalog) -> None:
    offered = {
        (t.template.name, o.recipe.source): o.unavailable
        for t in MetricTemplates(catalog).all()
        for o in t.recipes
    }
    assert offered[("cpu", "prometheus")] is None
    assert offered[("error-rate", "sdk")] is None
    assert offered[("lcp-p75", "vercel")] is None  # read from Shipwise's own store
    assert offered[("api-5xx-share", "vercel")] is None
    zendesk = offered[("tickets-per-hour", "zendesk")]
    assert (zendesk is None) == ("zendesk" in pulled_sources())


def test_define__missing_setting__names_it_and_saves_nothing(catalog: MetricCatalog) -> None:
    with pytest.raises(Invalid) as refused:
        MetricTemplates(catalog).define(
            SYSTEM, PROJECT, "cpu", "cpu", "prometheus", {"url": "http://prom:9090"}
        )
    assert refused.value.field == "settings.job"
    assert catalog.all(SYSTEM, PROJECT) == []


def test_define__a_setting_the_source_refuses__is_named_by_the_source(
    catalog: MetricCatalog,
) -> None:
    with pytest.raises(Invalid) as refused:
        MetricTemplates(catalog).define(
            SYSTEM, PROJECT, "cpu", "cpu", "prometheus", {"url": "not a url", "job": "node"}
        )
    assert refused.value.field == "settings.url"
