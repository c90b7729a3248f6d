"""What each kind of channel takes: its public settings (checked one by one, the
culprit named in ``field``) and its secrets (write-only), in one table.

    slack    settings: channel, api_url     secrets: webhook_url | token (+ channel)
    email    settings: host, port, security (starttls|tls|none), user, from, recipients
             secrets: password
    webhook  secrets: url, secret (the HMAC key receivers verify with)
    log      nothing: the server's log
    sentry-flags  secrets: url, secret (Sentry's change-tracking webhook and its
             signing secret): hears every change of the project's flags, nothing else
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shipwise.server.services.errors import Invalid

Check = Callable[[Any, str], Any]  # (value, field) -> the value to keep, or Invalid


def _article(kind: str) -> str:
    return "an" if kind[:1] in "aeiou" else "a"


def _text(limit: int) -> Check:
    def check(value: Any, where: str) -> Any:
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise Invalid(f"{where} must be text of 1 to {limit} characters", field=where)
        return value.strip()

    return check


def _url(value: Any, where: str) -> Any:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        # Never the value: it may be the secret itself.
        raise Invalid(f"{where} must be an http:// or https:// address", field=where)
    return value.strip()


def _port(value: Any, where: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise Invalid(f"{where} must be a port number from 1 to 65535", field=where)
    return value


def _address(value: Any, where: str) -> Any:
    if not isinstance(value, str) or "@" not in value or len(value) > 254:
        raise Invalid(f"{where} must be an email address, like releases@example.com", field=where)
    # Any line break (CR, LF, or one of the others ``str.splitlines`` knows) would end
    # the header the address goes in: the email module refuses it when sending.
    if len(value.splitlines()) > 1 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise Invalid(f"{where} must be one address on one line, without a line break", field=where)
    return value.strip()


def _addresses(value: Any, where: str) -> Any:
    if not isinstance(value, list) or not 0 < len(value) <= 100:
        raise Invalid(f"{where} must be a list of 1 to 100 email addresses", field=where)
    return [_address(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _security(value: Any, where: str) -> Any:
    if value not in ("starttls", "tls", "none"):
        raise Invalid(f"{where} must be starttls, tls or none", field=where)
    return value


@dataclass(frozen=True)
class KindSpec:
    settings: Mapping[str, Check] = field(default_factory=dict)
    secrets: Mapping[str, Check] = field(default_factory=dict)
    required: frozenset[str] = frozenset()  # settings that must be there
    together: Callable[[dict[str, Any], dict[str, str]], None] = lambda _s, _x: None


def _slack(settings: dict[str, Any], secrets: dict[str, str]) -> None:
    given = [name for name in ("webhook_url", "token") if name in secrets]
    if len(given) != 1:
        raise Invalid(
            "a Slack channel takes secrets.webhook_url (an incoming webhook) or secrets.token "
            "(a bot token, with settings.channel), one of the two",
            field="secrets",
        )
    if given == ["token"] and "channel" not in settings:
        raise Invalid(
            "a Slack bot token needs settings.channel: the channel to post in (#releases)",
            field="settings.channel",
        )


def _webhook(_settings: dict[str, Any], secrets: dict[str, str]) -> None:
    for name in ("url", "secret"):
        if name not in secrets:
            raise Invalid(
                f"a webhook channel needs secrets.{name}"
                + (": the HMAC key receivers verify signatures with" if name == "secret" else ""),
                field=f"secrets.{name}",
            )


def _sentry_flags(_settings: dict[str, Any], secrets: dict[str, str]) -> None:
    needs = {
        "url": "the webhook URL Sentry shows under Feature Flags, Change Tracking, Generic",
        "secret": "the signing secret saved with it in Sentry",
    }
    for name, what in needs.items():
        if name not in secrets:
            raise Invalid(
                f"a sentry-flags channel needs secrets.{name}: {what}", field=f"secrets.{name}"
            )


KINDS: dict[str, KindSpec] = {
    "slack": KindSpec(
        settings={"channel": _text(80), "api_url": _url},
        secrets={"webhook_url": _url, "token": _text(500)},
        together=_slack,
    ),
    "email": KindSpec(
        settings={
            "host": _text(253),
            "port": _port,
            "security": _security,
            "user": _text(254),
            "from": _address,
            "recipients": _addresses,
        },
        secrets={"password": _text(500)},
        required=frozenset({"host", "port", "from", "recipients"}),
    ),
    "webhook": KindSpec(secrets={"url": _url, "secret": _text(500)}, together=_webhook),
    "log": KindSpec(),
    "sentry-flags": KindSpec(secrets={"url": _url, "secret": _text(500)}, together=_sentry_flags),
}


def checked(
    kind: str, settings: Mapping[str, Any], secrets: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``settings`` and ``secrets`` as kept, or Invalid naming the field at fault."""
    spec = KINDS.get(kind)
    if spec is None:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", field="kind")
    kept: dict[str, Any] = {}
    for name, value in settings.items():
        if name in spec.secrets:
            raise Invalid(
                f"settings.{name} is a secret: give it under secrets (never shown again)",
                field=f"settings.{name}",
            )
        check = spec.settings.get(name)
        if check is None:
            known = ", ".join(spec.settings) or "none"
            raise Invalid(
                f"{_article(kind)} {kind} channel has no setting {name!r} (it takes: {known})",
                field=f"settings.{name}",
            )
        kept[name] = check(value, f"settings.{name}")
    missing = sorted(spec.required - set(kept))
    if missing:
        raise Invalid(
            f"{_article(kind)} {kind} channel needs settings.{missing[0]}",
            field=f"settings.{missing[0]}",
        )
    if kind == "email":
        kept.setdefault("security", "starttls")
    sealed: dict[str, str] = {}
    for name, value in secrets.items():
        check = spec.secrets.get(name)
        if check is None:
            known = ", ".join(spec.secrets) or "none"
            raise Invalid(
                f"{_article(kind)} {kind} channel has no secret {name!r} (it takes: {known})",
                field=f"secrets.{name}",
            )
        sealed[name] = check(value, f"secrets.{name}")
    spec.together(kept, sealed)
    return kept, sealed
