"""A pulled source's secret, as Sentry's and Zendesk's take it: ``token_env`` (the name
of an environment variable on the server: better, the secret stays out of the database)
or ``token`` (the secret itself, stored with the metric), never both.

``TokenSetting`` checks the two settings before a metric is saved (the problems name
the field and say what to write) and gives the secret at each read, where a variable
gone missing is a ``MetricUnavailable`` like any other unreadable source."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipwise.server.ports import MetricUnavailable

Problem = tuple[str, str]

_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: a header's credentials
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


@dataclass(frozen=True, slots=True)
class TokenSetting:
    noun: str  # what the secret is called: "auth token", "API token"
    example_env: str  # a variable's name for the examples: "SENTRY_AUTH_TOKEN"
    required: str  # the problem when neither setting is given: what to get, and where
    max_length: int | None = None

    def problems(self, settings: Mapping[str, Any], environ: Mapping[str, str]) -> list[Problem]:
        token, token_env = settings.get("token"), settings.get("token_env")
        if token is not None and token_env is not None:
            return [("token", "set token_env or token, not both (token_env is better)")]
        if token_env is not None:
            if not isinstance(token_env, str) or not _ENV_NAME.fullmatch(token_env):
                example = f"write the name of an environment variable, e.g. {self.example_env}"
                return [("token_env", example)]
            if not environ.get(token_env):
                return [
                    ("token_env", f"the environment variable {token_env} is not set on this server")
                ]
            return []
        if token is None:
            return [("token_env", self.required)]
        too_long = self.max_length is not None and len(str(token)) > self.max_length
        if not isinstance(token, str) or not _TOKEN.fullmatch(token) or too_long:
            return [("token", f"write the {self.noun} as text (better: set token_env instead)")]
        return []

    def value(self, settings: Mapping[str, Any], environ: Mapping[str, str]) -> str:
        """The secret for one read; ``MetricUnavailable`` when its variable is unset or
        holds no token."""
        token_env = settings.get("token_env")
        if token_env is None:
            return str(settings["token"]).strip()
        token = environ.get(str(token_env), "").strip()
        if not token:
            raise MetricUnavailable(f"the environment variable {token_env} is not set")
        if not _TOKEN.fullmatch(token):
            raise MetricUnavailable(
                f"the environment variable {token_env} holds no {self.noun}: a token is "
                "printable ASCII without spaces"
            )
        return token
