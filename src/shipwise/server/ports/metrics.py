"""Metric definitions a project's guardrails name, and the sources that read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """A metric a project's guardrails may name. ``source`` says where its numbers come
    from ("sdk", "pushed", "vercel", "prometheus", "sentry", "cloud-logging", "zendesk",
    "json"); ``settings`` are the source's own (a PromQL query, a URL and a field path,
    an SDK event name, ...)."""

    project_id: int
    name: str
    source: str
    settings: Mapping[str, Any]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class MetricWindow:
    """What one check asks a source about: a flag in an environment, since ``start``."""

    project: str
    environment: str
    flag: str
    start: datetime
    end: datetime


class MetricUnavailable(Exception):
    """A source could not answer (down, bad query, unexpected payload): the guardrail's
    verdict is "error", with this message."""


class MetricSource(Protocol):
    """Reads one kind of metric (``kind`` matches ``MetricDefinition.source``)."""

    kind: str

    def problems(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        """What is wrong with a definition's settings, as (field, message) pairs."""
        ...

    def read(self, definition: MetricDefinition, window: MetricWindow) -> Any:
        """An observation (``domain.guardrails``): a Reading, a Comparison, or ArmCounts
        (events per arm, which the rollout pairs with the SDKs' exposures). Raises
        MetricUnavailable when the source cannot answer."""
        ...
