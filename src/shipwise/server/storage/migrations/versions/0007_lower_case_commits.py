"""commits stored in lower case, as every edge now normalises them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:15:00.000000

The gates compare commits exactly (as SQL does). Rows written before the edges lowered
them would never match a new lower-case CI report or deploy, so they are lowered once.
Short SHAs already stored stay as they are: no full SHA can be made from them here; such
a release shows "no CI result" until `shipwise release update REL --ref FULLSHA`.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("releases", "commit"),
    ("release_pull_requests", "merge_commit"),
    ("ci_results", "commit"),
    ("deploys", "commit"),
)


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.execute(
            f'UPDATE {table} SET "{column}" = lower("{column}") '  # noqa: S608 - constant names
            f'WHERE "{column}" <> lower("{column}")'
        )


def downgrade() -> None:
    """Nothing to undo: lower case is what every version reads."""
