"""A release's whole record as Markdown (``domain.release_record``): the services that
know each part are asked, as the person asking, and the domain lays it out.

The notes are the stored ones, drawn from git the first time (as ``release notes``
does); when they cannot be drawn (no repository set, git unreachable) the record says
why and goes on: a record is still worth having without its notes.
"""

from __future__ import annotations

from shipwise.domain.access import Action
from shipwise.domain.release_notes_render import arrange
from shipwise.domain.release_record import RecordInputs, render_record
from shipwise.server.ports import StoreOf
from shipwise.server.services.errors import Conflict
from shipwise.server.services.learnings import LearningsService, LearningsTx
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.release_notes import ReleaseNotesService
from shipwise.server.services.releases import ReleaseService
from shipwise.server.services.success_reports import gather


class ReleaseRecords:
    def __init__(
        self,
        store: StoreOf[LearningsTx],
        releases: ReleaseService,
        notes: ReleaseNotesService,
        learnings: LearningsService,
    ) -> None:
        self._store = store
        self._releases = releases
        self._notes = notes
        self._learnings = learnings

    def markdown(self, principal: Principal, project_key: str, key: str) -> str:
        view = self._releases.show(principal, project_key, key)  # checks READ, or 404
        try:
            drawn = self._notes.notes(principal, project_key, key)
            notes, problem = arrange(drawn.entries), None
        except Conflict as why:
            notes, problem = None, f"Notes not drawn: {why.message}"
        learnings = self._learnings.show(principal, project_key, key)
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            gathered = gather(tx, project, release)
        return render_record(
            RecordInputs(
                release=release,
                evidence=view.evidence,
                decision=view.decision,
                notes=notes,
                notes_problem=problem,
                promotions=[a for a in gathered.acts if a.action == "release.promote"],
                plans=[run for _plan, run in gathered.plans],
                report=gathered.report,
                learnings=learnings.draft,
                learnings_by=learnings.updated_by,
                learnings_at=learnings.updated_at,
                timeline=learnings.timeline,
            )
        )
