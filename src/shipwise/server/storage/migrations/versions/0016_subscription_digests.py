"""daily digests: a subscription that sends its channel one email a day (issue 14)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: every subscription made before this one sends each event at once.
    op.add_column("notification_subscriptions", sa.Column("digest", sa.String(length=20)))
    op.add_column("notification_subscriptions", sa.Column("digest_at", sa.String(length=5)))


def downgrade() -> None:
    with op.batch_alter_table("notification_subscriptions") as batch:
        batch.drop_column("digest_at")
        batch.drop_column("digest")
