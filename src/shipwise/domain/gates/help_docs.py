"""The help-docs gate: a major feature reaches users only with its help documentation
updated, a link to the page recorded on the release.

Which releases it asks: features (``kind = feature``) labelled ``major`` (the label as
a pull request or a person gives it, whatever its case), promoted into a stage whose
``require_help_docs`` is on. Bug fixes, hotfixes and features without the label pass by
it: a fix changes no documented behaviour, and a small feature is the team's call."""

from __future__ import annotations

from shipwise.domain import commands
from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok, stage_setting
from shipwise.domain.releases import ChangeKind, Release

__all__ = ["HELP_DOCS", "MAJOR_LABEL", "is_major_feature"]

MAJOR_LABEL = "major"
_asked = stage_setting("require_help_docs")


def is_major_feature(release: Release) -> bool:
    return release.kind is ChangeKind.FEATURE and any(
        label.strip().lower() == MAJOR_LABEL for label in release.labels
    )


def _applies(where: Where) -> bool:
    return _asked(where) and is_major_feature(where.release)


def _judge(judging: Judging, _item: Item) -> Judged:
    release = judging.release
    if release.help_docs:
        return ok(f"help docs updated: {release.help_docs}")
    remedy = (
        f"update the help documentation for {release.title!r}, then record the help-docs "
        f"page: {commands.record_help_docs(release)}"
    )
    return no(f"{release.key} is a major feature and no help-docs page is recorded", remedy)


HELP_DOCS = Gate(
    "help-docs",
    "Help docs updated",
    applies=_applies,
    describe=lambda _where, _item: "the help-docs page for this major feature, recorded",
    judge=_judge,
)
