"""The settings page's add-a-channel forms, one per kind, as data: which fields each kind's
form shows, which of them are secrets (password inputs, never written back into a page),
and how a form as typed becomes the ``settings`` and ``secrets`` the channel service
takes (the API's ``ChannelIn``). The service judges every value; its error names the
API's field (``settings.host``, ``secrets.webhook_url``), which ``form_field`` turns back
into the form's, so the message sits beside what was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shipwise.server.web.typed_fields import TypedFields

__all__ = ["FORMS", "ChannelFields", "FormField", "form_field", "kept_values", "split_fields"]

SECURITY = ("starttls", "tls", "none")
# A port is at most five digits; a longer run of digits goes to the service as typed,
# so it names the field instead of ``int()`` failing on thousands of digits.
_PORT_DIGITS = 5
_SEPARATORS = re.compile(r"[,\s]+")


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a kind's form: ``name`` in the form, ``key`` in the channel's
    ``settings`` or ``secrets`` (``where``), its label and a hint."""

    name: str
    key: str
    where: str  # "settings" or "secrets"
    label: str
    hint: str = ""
    options: tuple[str, ...] = ()  # a choice (select) rather than text

    @property
    def secret(self) -> bool:
        return self.where == "secrets"


def _setting(name: str, label: str, hint: str = "", key: str | None = None) -> FormField:
    return FormField(name, key or name, "settings", label, hint)


def _secret(name: str, label: str, hint: str) -> FormField:
    return FormField(name, name, "secrets", label, hint)


FORMS: dict[str, tuple[FormField, ...]] = {
    "slack": (
        _secret(
            "webhook_url",
            "Incoming webhook URL",
            "https://hooks.slack.com/services/…; or leave it empty and give a bot token",
        ),
        _secret("token", "Bot token", "xoxb-…, with the channel below; instead of a webhook"),
        _setting("channel", "Channel (with a bot token)", "Where the bot posts: #releases"),
        _setting("api_url", "Slack API address (optional)", "Empty: https://slack.com/api/"),
    ),
    "email": (
        _setting("host", "SMTP host", "smtp.example.com"),
        _setting("port", "SMTP port", "587 with STARTTLS, 465 with TLS"),
        FormField("security", "security", "settings", "Security", "", SECURITY),
        _setting("user", "SMTP user (optional)", "Empty: no sign-in"),
        _secret("password", "SMTP password", "With the user; empty: none"),
        _setting("from_address", "From", "releases@example.com", key="from"),
        _setting("recipients", "Recipients", "Email addresses, separated by commas"),
    ),
    "webhook": (
        _secret("url", "URL", "Where the signed JSON is posted: https://…"),
        _secret("secret", "Signing secret", "The HMAC key receivers verify signatures with"),
    ),
    "sentry-flags": (
        _secret(
            "url",
            "Sentry's change-tracking URL",
            "From Sentry: Settings → Feature Flags → Change Tracking (the generic provider)",
        ),
        _secret("secret", "Signing secret", "The secret Sentry showed when the provider was added"),
    ),
    "log": (),
}


class ChannelFields(TypedFields):
    """Every kind's form as typed; a kind reads only its own fields (``FORMS``)."""

    kind: str = ""
    name: str = ""
    webhook_url: str = ""
    token: str = ""
    channel: str = ""
    api_url: str = ""
    host: str = ""
    port: str = ""
    security: str = ""
    user: str = ""
    password: str = ""
    from_address: str = ""
    recipients: str = ""
    url: str = ""
    secret: str = ""


def _value(field: FormField, text: str) -> Any:
    """A field's text as the API would carry it: a port a number, recipients a list."""
    if field.key == "port" and text.isdigit() and len(text) <= _PORT_DIGITS:
        return int(text)
    if field.key == "recipients":
        return [item for item in _SEPARATORS.split(text) if item]
    return text


def split_fields(kind: str, typed: ChannelFields) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``settings`` and ``secrets`` of ``kind``'s form: an empty field is not given
    (the service then says what a kind needs)."""
    settings: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    typed_values = typed.model_dump()
    for field in FORMS.get(kind, ()):
        text = typed_values[field.name]
        if text:
            (secrets if field.secret else settings)[field.key] = _value(field, text)
    return settings, secrets


def kept_values(kind: str, typed: ChannelFields) -> dict[str, str]:
    """What a refused form shows again as typed: everything but its secrets."""
    secret = {f.name for f in FORMS.get(kind, ()) if f.secret}
    return {k: v for k, v in typed.model_dump().items() if k not in secret}


def form_field(kind: str, service_field: str | None) -> str:
    """The form's field for the service's ``field`` (``settings.recipients[2]`` is
    ``recipients``; a Slack channel's "one of the two" ``secrets`` is the webhook URL's);
    ``form`` for what no field of the form holds."""
    if service_field == "name":
        return "name"
    where, _, key = (service_field or "").partition(".")
    key = key.split("[", 1)[0]
    for field in FORMS.get(kind, ()):
        if field.where == where and (field.key == key or (not key and field.secret)):
            return field.name
    return "form"
