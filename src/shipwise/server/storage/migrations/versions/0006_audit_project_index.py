"""audit log: an index on (project, id) for the newest records of one project

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 04:20:00.000000

``shipwise audit list -p P`` asks for a project's newest records, filtered; without this
index the database takes ix_audit_project_target and sorts every record of the project.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_project_id", ["project", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_project_id")
