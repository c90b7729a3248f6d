"""Reading a page of a project's flags: the filters run in SQL, so a page of a long table
costs its own rows and a count, never every flag of the project.

A flag's tags are a JSON list; a tag is matched, and the project's tags listed, by
expanding that list in SQL: ``json_each`` on SQLite, ``json_array_elements_text`` on
PostgreSQL (both name the element ``value``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, true
from sqlalchemy.orm import Session

from shipwise.server.ports.flags import FlagConfig, FlagFacets, FlagPage, FlagQuery, FlagRecord
from shipwise.server.storage.tables import FlagConfigRow, FlagRow

__all__ = ["FlagListingQueries"]

_LIKE_ESCAPE = "\\"


def _like_part(text: str) -> str:
    """``text`` anywhere, as a LIKE pattern: its own ``%`` and ``_`` are no wildcards."""
    escaped = text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


class FlagListingQueries:
    session: Session
    _is_sqlite: bool
    # SqlTransaction's row → record conversions (repository.py), one for every read.
    _flag_record: Callable[[FlagRow], FlagRecord]
    _config_record: Callable[[FlagConfigRow], FlagConfig]

    def _tag_elements(self) -> Any:
        """The elements of ``flags.tags`` as a table with one column, ``value``."""
        expand = func.json_each if self._is_sqlite else func.json_array_elements_text
        return expand(FlagRow.tags).table_valued("value").alias("tag")

    def _conditions(self, project_id: int, query: FlagQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [FlagRow.project_id == project_id]
        for column, value in (
            (FlagRow.archived, query.archived),
            (FlagRow.kind, query.kind),
            (FlagRow.owner, query.owner),
        ):
            if value is not None:
                where.append(column == value)
        search = query.folded_search
        if search is not None:
            # Keys are ASCII: lower() is the same on every database.
            where.append(func.lower(FlagRow.key).like(_like_part(search), escape=_LIKE_ESCAPE))
        if query.keys is not None:
            where.append(FlagRow.key.in_(sorted(query.keys)))
        if query.tag is not None:
            tags = self._tag_elements()
            where.append(exists(select(tags.c.value).where(tags.c.value == query.tag)))
        if query.enabled is not None:
            on = exists().where(
                FlagConfigRow.flag_id == FlagRow.id, FlagConfigRow.enabled.is_(True)
            )
            where.append(on if query.enabled else ~on)
        return where

    def find_flags(
        self, project_id: int, query: FlagQuery, *, offset: int = 0, limit: int | None = None
    ) -> FlagPage:
        where = self._conditions(project_id, query)
        total = self.session.scalar(select(func.count()).select_from(FlagRow).where(*where))
        page = select(FlagRow).where(*where).order_by(FlagRow.key).offset(offset).limit(limit)
        return FlagPage([self._flag_record(r) for r in self.session.scalars(page)], total or 0)

    def configs_for_flags(self, flag_ids: Sequence[int]) -> list[FlagConfig]:
        if not flag_ids:
            return []
        rows = self.session.scalars(
            select(FlagConfigRow).where(FlagConfigRow.flag_id.in_(sorted(set(flag_ids))))
        )
        return [self._config_record(r) for r in rows]

    def flag_facets(self, project_id: int) -> FlagFacets:
        mine = FlagRow.project_id == project_id
        owners = self.session.scalars(
            select(FlagRow.owner).where(mine, FlagRow.owner.is_not(None)).distinct()
        )
        tags = self._tag_elements()
        names = self.session.scalars(
            select(tags.c.value).select_from(FlagRow).join(tags, true()).where(mine).distinct()
        )
        return FlagFacets(tags=sorted(names), owners=sorted(o for o in owners if o is not None))
