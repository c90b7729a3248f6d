"""A rollout plan's watch window as the API answers it (``GET …/rollouts/{id}``'s
``watch_window``): which window the plan is in, how often its guardrails are read, until
when, when the next reading is due, and what holds it. ``domain.watch_window`` decides;
this module only shapes the answer, with the sentence ``shipwise rollout show`` prints.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shipwise.domain.durations import format_duration
from shipwise.domain.watch_window import unreadable_of, watch_window, window_words
from shipwise.server.ports import RolloutPlanRecord

__all__ = ["UnreadableOut", "WatchWindowOut"]


class UnreadableOut(BaseModel):
    metric: str = Field(description="The guardrail whose source could not be read")
    why: str = Field(description="The source's problem, in its words")


class WatchWindowOut(BaseModel):
    kind: str = Field(description="close-watch, watch, bake, or none (paused or finished)")
    step: int = Field(description="The step it is at, counted from 1")
    every: str | None = Field(description='How often the guardrails are read now ("1m")')
    until: datetime | None = Field(description="When this window ends; null: open-ended")
    closely_until: datetime | None = Field(
        description="At 100%: the end of the bake's close watch, while it lasts"
    )
    then_every: str | None = Field(description="The cadence after the close watch")
    next_reading_at: datetime | None = Field(description="null: no more readings")
    why_none: str | None = Field(description="With kind none: why there are no readings")
    held_by: list[UnreadableOut] = Field(
        description="Guardrails that could not be read: the plan holds until they can"
    )
    summary: str = Field(description="The window in one sentence (times in UTC)")

    @classmethod
    def of(cls, plan: RolloutPlanRecord, now: datetime) -> WatchWindowOut:
        window = watch_window(
            plan.spec, plan.state, now, plan.next_check_at, unreadable_of(plan.judgements)
        )
        return cls(
            kind=window.kind.value,
            step=window.step,
            every=None if window.every is None else format_duration(window.every),
            until=window.until,
            closely_until=window.closely_until,
            then_every=None if window.then_every is None else format_duration(window.then_every),
            next_reading_at=window.next_reading_at,
            why_none=window.why_none,
            held_by=[UnreadableOut(metric=name, why=why) for name, why in window.unreadable],
            summary=window_words(window, now),
        )
