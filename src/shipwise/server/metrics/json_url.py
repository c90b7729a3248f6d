"""Any HTTP endpoint that answers JSON: one number picked out of the document by a path.

Settings::

    url:          https://status.example.com/api/checkout?flag={flag}&env={environment}
    path:         data.checkout.error_rate        # or items[0].value, or stats["p99.9"]
    sample_path:  data.checkout.requests          # optional: how many units the value rests on
    headers:      {X-Api-Key: "..."}              # optional

``{flag}``, ``{environment}`` and ``{project}`` in the URL are replaced by the window's
values, percent-encoded; in header values they are replaced as they are.

The path language is small and strict: field names (letters, digits, ``_``, ``-``, ``$``,
``@``) joined by dots, list indexes in brackets (``[0]``, ``[-1]`` for the last), and
quoted names in brackets for any other key (``["p99.9"]``). A number, or a text that is a
number (``"0.02"``), is the reading; ``null``, NaN and infinities are no data; anything
else, or a path that leads nowhere, is ``MetricUnavailable`` naming the step that failed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shipwise.domain.guardrails import Reading
from shipwise.server.metrics import _http
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

__all__ = ["JsonPath", "JsonUrlSource", "PathError"]

_SETTINGS = ("url", "path", "sample_path", "headers")
_NAME = re.compile(r"[A-Za-z0-9_$@-]+")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r'\["((?:[^"\\]|\\["\\])*)"\]')
_SHOWN_FIELDS = 10


class PathError(ValueError):
    """A path that cannot be parsed; the message says where and what to write."""


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A parsed path: field names (str) and list indexes (int), in order."""

    steps: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        if not text:
            raise PathError("the path is empty; write e.g. data.error_rate or items[0].value")
        steps: list[str | int] = []
        position = 0
        while position < len(text):
            at = f"character {position + 1} of {text!r}"
            if text[position] == "[":
                index = _INDEX.match(text, position)
                quoted = _QUOTED.match(text, position)
                if index:
                    steps.append(int(index.group(1)))
                    position = index.end()
                elif quoted:
                    steps.append(re.sub(r"\\(.)", r"\1", quoted.group(1)))
                    position = quoted.end()
                else:
                    raise PathError(
                        f"{at}: a bracket holds a list index or a quoted name, "
                        'e.g. items[0] or stats["p99.9"]'
                    )
                continue
            if steps:
                if text[position] != ".":
                    raise PathError(f"{at}: expected . or [ after {_format(steps)}")
                position += 1
                at = f"character {position + 1} of {text!r}"
            name = _NAME.match(text, position)
            if not name:
                found = repr(text[position]) if position < len(text) else "the end"
                raise PathError(
                    f"{at}: expected a field name, found {found}; names are letters, "
                    'digits, _ and -, other keys go in quoted brackets: ["a key"]'
                )
            steps.append(name.group(0))
            position = name.end()
        return cls(tuple(steps))

    def find(self, document: Any) -> Any:
        """The value the path leads to; LookupError naming the step that failed."""
        here: Any = document
        for number, step in enumerate(self.steps):
            done = self.steps[:number]
            where = _format(done) if done else "the top of the document"
            if isinstance(step, int):
                if not isinstance(here, list):
                    raise LookupError(
                        f"{_format(self.steps[: number + 1])}: expected a list at {where}, "
                        f"found {_http.describe(here)}"
                    )
                if not -len(here) <= step < len(here):
                    raise LookupError(
                        f"{_format(self.steps[: number + 1])}: the list at {where} has "
                        f"{len(here)} element{'s' if len(here) != 1 else ''}"
                    )
                here = here[step]
            else:
                if not isinstance(here, dict):
                    raise LookupError(
                        f"{_format(self.steps[: number + 1])}: expected an object at {where}, "
                        f"found {_http.describe(here)}"
                    )
                if step not in here:
                    fields = ", ".join(str(key) for key in list(here)[:_SHOWN_FIELDS])
                    more = ", ..." if len(here) > _SHOWN_FIELDS else ""
                    raise LookupError(
                        f"{_format(self.steps[: number + 1])}: no field {step!r} in the object "
                        f"at {where} (its fields: {fields or 'none'}{more})"
                    )
                here = here[step]
        return here

    def __str__(self) -> str:
        return _format(self.steps)


def _format(steps: Sequence[str | int]) -> str:
    text = ""
    for step in steps:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _NAME.fullmatch(step):
            text += f".{step}" if text else step
        else:
            escaped = step.replace("\\", "\\\\").replace('"', '\\"')
            text += f'["{escaped}"]'
    return text


class JsonUrlSource:
    """Reads a number from a JSON document at a URL."""

    kind = "json"

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def problems(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = _http.unknown_settings(settings, _SETTINGS)
        problems += _http.url_problems(settings, "url", required=True)
        for field in ("path", "sample_path"):
            value = settings.get(field)
            if value is None:
                if field == "path":
                    problems.append((field, "required: e.g. data.error_rate or items[0].value"))
            elif not isinstance(value, str):
                problems.append((field, f"write the path as text, not {_http.describe(value)}"))
            else:
                try:
                    JsonPath.parse(value)
                except PathError as error:
                    problems.append((field, str(error)))
        problems += _http.headers_problems(settings)
        return problems

    def read(self, definition: MetricDefinition, window: MetricWindow) -> Reading:
        settings = definition.settings
        _http.unavailable_if(self.problems(settings), f"JSON {definition.name!r}")
        url = _http.fill(str(settings["url"]), window, _url_escape)
        answer = _http.get_json(
            url,
            headers=_http.filled_headers(settings, window),
            timeout=self.timeout,
            expected="a JSON document",
        )
        if not answer.ok:
            raise MetricUnavailable(
                f"{answer.status_line()}: {answer.body_snippet()}, expected 200 with JSON"
            )
        value = self._number(answer, str(settings["path"]), "path")
        sample = None
        if settings.get("sample_path") is not None:
            sample = self._number(answer, str(settings["sample_path"]), "sample_path")
            if sample is not None and sample < 0:
                raise MetricUnavailable(
                    f"{answer.url}: sample_path {settings['sample_path']} is {sample:g}; "
                    "a sample size is a count, never negative"
                )
        return Reading(value, sample)

    @staticmethod
    def _number(answer: _http.Answer, text: str, field: str) -> float | None:
        path = JsonPath.parse(text)
        try:
            found = path.find(answer.body)
        except LookupError as error:
            raise MetricUnavailable(f"{answer.url}: {field} {error}") from None
        if found is None:
            return None
        try:
            return _http.number(found)
        except ValueError:
            raise MetricUnavailable(
                f"{answer.url}: {field} {path} is {_http.describe(found)}, not a number"
            ) from None


def _url_escape(value: str) -> str:
    return quote(value, safe="")
