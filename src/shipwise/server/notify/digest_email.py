"""A daily digest as one email: the subject and both parts, from Jinja2 templates
(``templates/digest.txt`` and ``digest.html``; the HTML one autoescaped, so a title
cannot inject markup). Events are grouped by release, in the order each release was
first heard, events about no release last; each is its title, its time in the
policy's time zone, its severity and the link to the page that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from shipwise.server.ports import Digest, Notification

_TEMPLATES = Environment(
    loader=PackageLoader("shipwise.server.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)
NO_RELEASE = "Other events"


@dataclass(frozen=True, slots=True)
class Line:
    """One event as the digest lists it."""

    title: str
    time: str  # 14:05 CET
    severity: str
    link: str | None


@dataclass(frozen=True, slots=True)
class Group:
    heading: str  # the release's key, or NO_RELEASE
    lines: tuple[Line, ...]


def subject(digest: Digest) -> str:
    count = len(digest.items)
    events = "1 event" if count == 1 else f"{count} events"
    return f"Shipwise daily digest: {events} in {digest.project} ({digest.day})"


def groups(digest: Digest) -> list[Group]:
    zone = ZoneInfo(digest.timezone)
    by_release: dict[str | None, list[Line]] = {}
    for item in digest.items:
        by_release.setdefault(item.release, []).append(_line(item, zone))
    ordered: list[str | None] = [key for key in by_release if key is not None]
    if None in by_release:
        ordered.append(None)
    return [Group(key or NO_RELEASE, tuple(by_release[key])) for key in ordered]


def _line(item: Notification, zone: ZoneInfo) -> Line:
    local = item.at.astimezone(zone)
    link = item.data.get("url")
    return Line(
        title=" ".join(item.title.split()),
        time=f"{local:%Y-%m-%d %H:%M} {local.tzname()}",
        severity=item.severity,
        link=link if isinstance(link, str) and link else None,
    )


def render(digest: Digest) -> tuple[str, str, str]:
    """The subject, the plain-text and the HTML body."""
    title = subject(digest)
    values = {"subject": title, "digest": digest, "groups": groups(digest)}
    return (
        title,
        _TEMPLATES.get_template("digest.txt").render(values),
        _TEMPLATES.get_template("digest.html").render(values),
    )
