"""Ready-made guardrails (``domain.metric_templates``) as this server offers them: which
recipes it can read, and a metric defined from one.

A recipe is *available* when it is not ``coming`` and this server reads its source: SDK
events and pushed counters always, a pulled source (prometheus, sentry, zendesk, ...)
when ``server.metrics`` registered it, which the catalog knows at run time. Defining
from a template fills the recipe and goes through ``MetricCatalog.define`` like any
definition, so the source checks the result and names the setting at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipwise.domain.metric_templates import (
    TEMPLATES,
    MetricTemplate,
    Recipe,
    TemplateProblem,
    fill,
    template_named,
)
from shipwise.server.ports import MetricDefinition
from shipwise.server.services.errors import Invalid
from shipwise.server.services.metric_catalog import MetricCatalog
from shipwise.server.services.principal import Principal


@dataclass(frozen=True, slots=True)
class Offered:
    """A recipe as this server offers it: ``unavailable`` says why not, or is None."""

    recipe: Recipe
    unavailable: str | None


@dataclass(frozen=True, slots=True)
class OfferedTemplate:
    template: MetricTemplate
    recipes: tuple[Offered, ...]


class MetricTemplates:
    def __init__(self, catalog: MetricCatalog) -> None:
        self._catalog = catalog

    def all(self) -> list[OfferedTemplate]:
        """Every template, each recipe marked available or not (and why). The catalog is
        public knowledge: any api token may read it."""
        return [
            OfferedTemplate(t, tuple(Offered(r, self._unavailable(r)) for r in t.recipes))
            for t in TEMPLATES
        ]

    def define(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        template_name: str,
        source: str,
        values: Mapping[str, Any],
        description: str | None = None,
    ) -> MetricDefinition:
        """Define metric ``name`` from a template's recipe for ``source``; ``values`` fill
        its placeholders (any other key overrides a setting of that name)."""
        if not isinstance(values, Mapping):
            raise Invalid("settings must be an object", field="settings")
        try:
            template = template_named(template_name)
            recipe = template.recipe(source)
            why_not = self._unavailable(recipe)
            if why_not is not None:
                raise TemplateProblem(why_not, field="source")
            settings = fill(recipe, values)
        except TemplateProblem as problem:
            raise Invalid(problem.message, field=problem.field) from None
        return self._catalog.define(
            principal, project_key, name, source, settings, description or template.watches
        )

    def _unavailable(self, recipe: Recipe) -> str | None:
        if recipe.coming:
            return f"coming: Shipwise cannot read {recipe.source} yet"
        if not self._catalog.reads(recipe.source):
            return f"this server has no {recipe.source!r} metric source configured"
        return None
