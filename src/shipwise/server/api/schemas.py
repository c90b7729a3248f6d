"""What the admin API's routes share: the value types requests are made of, the error
body and its OpenAPI entries, path parameters and If-Match. Each resource's own request
and answer models sit beside its routes (``admin_*``).

Requests forbid unknown fields and constrain every value, so a typo or a wrong type is
a 422 naming the field before any service runs. Names, keys and titles are one visible
line (``domain.text``: no control, bidirectional or zero-width characters, not only
whitespace). Keys follow ``domain.keys`` (flag keys are Unleash's feature names, every
other kind is lowercase) and a bad one is explained in words with a key that would do,
never as a pattern. Strings are limited to what every
database column takes (no NUL, within its length): a value PostgreSQL would refuse
must be refused here, as a 422, not there, as a 500. Rules (strategies, variants,
dependencies, constraints) stay JSON objects in the Unleash shapes; the engine's parser
checks them in the services and names the field inside (``strategies[0].name``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header, Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from shipwise.domain.keys import (
    ENVIRONMENT_KEY,
    FLAG_KEY,
    KEY,
    PROJECT_KEY,
    RELEASE_KEY,
    SEGMENT_NAME,
    TAG,
    TEMPLATE_NAME,
    KeyRule,
)
from shipwise.domain.text import name_problem

KEY_REGEX = KEY.pattern  # the lowercase rule of every key but a flag's
_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
_LONGEST_NAME = 300  # titles; names 200, token names 100, keys 63


def _encodable(value: str) -> str:
    """A string PostgreSQL and SQLite can store: no lone surrogate halves."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone UTF-16 surrogate, which cannot be stored") from None
    return value


def _encodable_json(value: Any) -> Any:
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone UTF-16 surrogate, which cannot be stored") from None
    except ValueError:
        raise ValueError("contains NaN or Infinity, which JSON does not allow") from None
    return value


def _text(max_length: int, min_length: int = 1) -> Any:
    """Free text (reasons, descriptions): several lines, anything storable. Shown
    through ``domain.text.inert``, so what it holds cannot disguise a line."""
    constraints = StringConstraints(min_length=min_length, max_length=max_length, pattern=_NO_NUL)
    return Annotated[str, constraints, AfterValidator(_encodable)]


def _visible(value: Any) -> Any:
    """Names, keys and titles are one visible line (``domain.text``): the 422 names the
    hidden character and where it is, before a pattern's vaguer "should match". Text
    longer than any name is left to the length limit, which says so without a scan."""
    if not isinstance(value, str) or len(value) > _LONGEST_NAME:
        return value
    if (problem := name_problem(value)) is not None:
        raise PydanticCustomError("hidden_character", problem)
    return value


Visible = BeforeValidator(_visible)


def _name(max_length: int) -> Any:
    return Annotated[
        str,
        Visible,
        StringConstraints(min_length=1, max_length=max_length),
        AfterValidator(_encodable),
    ]


def follows(rule: KeyRule) -> Any:
    """A validator for a key of ``rule``'s kind (``domain.keys``): the 422 says what is
    wrong in words and suggests a key that would do, never "should match pattern".
    The pattern stays in the OpenAPI schema, for machines."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and (problem := rule.problem(value)) is not None:
            # The message quotes the input: passed as context, so braces in it stay text.
            raise PydanticCustomError("invalid_key", "{problem}", {"problem": problem})
        return value

    return AfterValidator(check)


def _key(rule: KeyRule) -> Any:
    described = Field(description=rule.rule, json_schema_extra={"pattern": rule.pattern})
    return Annotated[str, Visible, follows(rule), described]


Key = _key(KEY)  # a sign-off kind, an environment named in a body, ...
FlagKeyIn = _key(FLAG_KEY)  # Unleash's feature names: case-sensitive, '.', '~', ...
ProjectKeyIn = _key(PROJECT_KEY)
EnvironmentKeyIn = _key(ENVIRONMENT_KEY)
ReleaseKeyIn = _key(RELEASE_KEY)
SegmentNameIn = _key(SEGMENT_NAME)
Name = _name(200)
Title = _name(300)
Branch = Annotated[
    str,
    Visible,
    StringConstraints(pattern=r"^[^\x00-\x20\x7f~^:?*\[\\]{1,200}$"),
]
TimeZone = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_+\-/]{1,64}$")]
Description = _text(4000, min_length=0)
Owner = _name(200)
Tag = _key(TAG)
Reason = _text(1000)
TokenName = _name(100)  # the audit log's actor column holds the name plus a label
Stickiness = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$")]
JsonObject = Annotated[dict[str, Any], AfterValidator(_encodable_json)]


class StrictBody(BaseModel):
    """A request body: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# -- errors ----------------------------------------------------------------------------


class GateOut(BaseModel):
    gate: str = Field(description="A stable id: approvals, signoff:qa, business-hours, …")
    passed: bool
    detail: str = Field(description="What was found")
    remedy: str | None = Field(description="What would satisfy it, when it did not pass")
    bypassed: bool = Field(False, description="Passed only because the hotfix path skips it")
    hotfix_path: bool = Field(False, description="Judged on the hotfix path")


class ErrorDetail(BaseModel):
    status: int = Field(description="The HTTP status, repeated")
    message: str = Field(description="What is wrong, and what to do about it")
    field: str | None = Field(description="The field at fault, e.g. `strategies[0].name`")
    gates: list[GateOut] | None = Field(
        default=None, description="For a refused promotion: every gate, met or not"
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


_ERRORS = {
    401: "No token, or an unknown, revoked or expired one",
    403: "The token's role, project or kind does not allow this",
    404: "No such project, environment, flag, segment or token",
    409: "A stale version (If-Match) or a key that already exists; nothing changed",
    422: "Invalid input; `field` names it; nothing changed",
    428: "The write needs If-Match with the version last read; nothing changed",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give: always 401 and 403, and
    always 422 (else FastAPI documents its own 422 shape, which this API never sends)."""
    wanted = sorted({401, 403, 422, *statuses})
    return {s: {"model": ErrorBody, "description": _ERRORS[s]} for s in wanted}


def with_etag(description: str) -> dict[int | str, dict[str, Any]]:
    header = {
        "description": 'The version, quoted (`"3"`): send it back as If-Match',
        "schema": {"type": "string"},
    }
    return {200: {"description": description, "headers": {"ETag": header}}}


# -- timestamps ------------------------------------------------------------------------


def _storable(moment: datetime | None) -> datetime | None:
    """In UTC, as everything is stored (SQLite keeps no time zone). A moment whose UTC
    falls off the calendar (9999-12-31 at -05:00) is refused, not a 500."""
    if moment is None:
        return None
    try:
        converted = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of dates that can be stored") from None
    if converted.year >= 9999:
        raise ValueError("must be before the year 9999")
    return converted


Expiry = Annotated[AwareDatetime | None, AfterValidator(_storable)]


# -- path parameters -------------------------------------------------------------------


def path_key(rule: KeyRule, what: str) -> Any:
    """A key in the path (PUT creates by it): checked and explained as in a body. FastAPI
    matches ``{key}`` up to the next '/', so every flag key (dots, '~') routes as it is."""
    described = Path(
        description=f"The {what}: {rule.rule}",
        json_schema_extra={"pattern": rule.pattern},
    )
    return Annotated[str, Visible, follows(rule), described]


ProjectKey = path_key(PROJECT_KEY, "project's key")
EnvironmentKey = path_key(ENVIRONMENT_KEY, "environment's key")
FlagKey = path_key(FLAG_KEY, "flag's key")
SegmentName = path_key(SEGMENT_NAME, "segment's name")
ReleaseKey = path_key(RELEASE_KEY, "release's key")
TemplateName = path_key(TEMPLATE_NAME, "template's name")
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The token's id")]


# -- versions --------------------------------------------------------------------------

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$',
        description='The version last read, as its ETag gives it: `"3"`',
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'
