"""Monitoring schedules as an iCalendar document (RFC 5545, written by ``icalendar``):
one VEVENT per window (each step, each step's close watch, the bake).

A window's UID is made of the project, the release, the plan (``plan-<id>``, or
``estimate`` while no plan exists), the window's kind and step, so a calendar that
fetches the schedule again updates each event in place as the plan's times become real.
The plan is in it because a release that is rolled back and planned again gets a new
plan with the same steps: under the old plan's UIDs its events would be updates of the
cancelled ones, with a SEQUENCE starting again from 1, which a calendar may ignore and
keep them CANCELLED. SEQUENCE is the plan's version, which only goes up (every save of a
plan adds one), and 0 for an estimate, which has no plan to count: under one UID it
never goes down. DTSTAMP is the moment the document was made. A window the plan will
not reach (rolled back, aborted) stays, marked CANCELLED, so a subscribed calendar drops
it rather than keeping a stale copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from icalendar import Calendar, Event

from shipwise.domain.monitoring_schedule import WindowState
from shipwise.server.services.schedules import ReleaseSchedule

__all__ = ["PRODUCT_ID", "calendar_document", "window_uid"]

PRODUCT_ID = "-//Shipwise//Monitoring schedule//EN"
UID_DOMAIN = "shipwise"


def window_uid(project: str, release: str, plan_id: int | None, kind: str, step: int) -> str:
    """The event's id: one plan's window of one release (``plan_id`` None: an estimate)."""
    plan = "estimate" if plan_id is None else f"plan-{plan_id}"
    return f"{project}/{release}/{plan}/{kind}/{step + 1}@{UID_DOMAIN}"


def _event(found: ReleaseSchedule, index: int, stamp: datetime) -> Event:
    window = found.schedule.windows[index]
    release = found.release
    event = Event()
    uid = window_uid(release.project, release.key, found.plan_id, window.kind.value, window.step)
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("sequence", found.version)
    event.add("dtstart", window.starts)
    event.add("dtend", window.ends)
    event.add("summary", f"{release.key} ({release.title}): {window.title}")
    estimate = "Estimated: the plan has not reached it yet. " if window.estimated else ""
    watching = ", ".join(found.schedule.watchers) or "nobody named"
    event.add(
        "description",
        f"{window.description}\n{estimate}Checks: {found.schedule.cadence}.\n"
        f"Watching: {watching}.\nFrom {found.source}.\n{found.url}",
    )
    event.add("url", found.url)
    event.add("categories", ["shipwise", window.kind.value])
    if window.state is WindowState.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "TENTATIVE" if window.estimated else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # watching a rollout does not make anyone busy
    return event


def calendar_document(schedules: Sequence[ReleaseSchedule], name: str, stamp: datetime) -> bytes:
    """``schedules`` as one calendar called ``name``, stamped ``stamp``."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for found in schedules:
        for index in range(len(found.schedule.windows)):
            calendar.add_component(_event(found, index, stamp))
    document: bytes = calendar.to_ical()
    return document
