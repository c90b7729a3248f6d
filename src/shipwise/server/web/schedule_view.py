"""What the release page's "Monitoring schedule" section shows: the release's schedule in
production (``services.schedules``, one read), a row per step with its dates in the
policy's time zone, and who watches.

Its own module so that the release page (which shows it) and the schedule actions
(which show the page again with a new feed link) both use it without importing each
other. A project with no environments has no production to watch: the section says so
instead of failing the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipwise.domain import wording
from shipwise.domain.durations import describe_duration
from shipwise.domain.monitoring_schedule import Window, WindowKind, WindowState
from shipwise.server.bootstrap import Services
from shipwise.server.services.errors import Conflict
from shipwise.server.services.principal import Principal
from shipwise.server.services.schedules import ReleaseSchedule

__all__ = ["ScheduleRow", "ScheduleSection", "schedule_section", "schedule_url"]

STATE_WORDS = {
    WindowState.DONE: "done",
    WindowState.NOW: "now",
    WindowState.AHEAD: "ahead",
    WindowState.CANCELLED: "cancelled: the plan stopped before it",
}


def schedule_url(project: str, key: str) -> str:
    """The schedule as iCalendar for the signed-in person (the API's needs a token)."""
    return f"/projects/{project}/releases/{key}/schedule.ics"


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """One step of the plan: its window (the step, or the bake at 100%) and its close
    watch, as a person reads them."""

    number: int  # from 1
    audience: str  # "10% + beta-testers"
    bake: bool
    starts: str  # in the policy's time zone, with its name
    ends: str
    at_the_earliest: bool  # an estimated end: the step may hold longer
    close_watch: str  # until when the first checks run closely
    cadence: str
    state: WindowState
    estimated: bool

    @property
    def state_words(self) -> str:
        if self.cancelled or not self.estimated:
            return STATE_WORDS[self.state]
        return "estimate"

    @property
    def cancelled(self) -> bool:
        return self.state is WindowState.CANCELLED


@dataclass(frozen=True, slots=True)
class ScheduleSection:
    found: ReleaseSchedule | None  # None: the project has no environments
    rows: list[ScheduleRow]
    problem: str | None  # why there is no schedule, in words
    ics: str  # the page's own .ics route

    @property
    def zone(self) -> str:
        return "" if self.found is None else self.found.zone.key


def _rows(found: ReleaseSchedule) -> list[ScheduleRow]:
    zone, watch = found.zone, found.spec.watch
    close: dict[int, Window] = {}
    main: dict[int, Window] = {}
    for each in found.schedule.windows:
        (close if each.kind is WindowKind.CLOSE_WATCH else main)[each.step] = each
    cadence = (
        f"every {describe_duration(watch.close_every)}, "
        f"then every {describe_duration(watch.then_every)}"
    )
    rows = []
    for index, step in enumerate(found.spec.steps):
        window, first = main.get(index), close.get(index)
        if window is None or first is None:
            continue  # every step has both (domain.monitoring_schedule); kept safe
        audiences = f" + {', '.join(step.audiences)}" if step.audiences else ""
        bake = window.kind is WindowKind.BAKE
        rows.append(
            ScheduleRow(
                number=index + 1,
                audience=f"{step.percentage}%{audiences}",
                bake=bake,
                starts=wording.moment(window.starts, zone),
                ends=wording.moment(window.ends, zone),
                at_the_earliest=window.estimated and not bake,
                close_watch=(
                    f"first {describe_duration(watch.close_for)}, "
                    f"until {wording.moment(first.ends, zone)}"
                ),
                cadence=cadence + (f"; a {describe_duration(watch.bake)} bake" if bake else ""),
                state=window.state,
                estimated=window.estimated,
            )
        )
    return rows


def schedule_section(
    services: Services, principal: Principal, project: str, key: str
) -> ScheduleSection:
    """The section of release ``key`` as ``principal`` may read it."""
    ics = schedule_url(project, key)
    try:
        found = services.schedules.for_release(principal, project, key)
    except Conflict as error:
        return ScheduleSection(None, [], error.message, ics)
    return ScheduleSection(found, _rows(found), None, ics)
