"""notification subscriptions: which events go to which channel, and the dedupe keys
that make one event one message per destination (issue 14)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:25:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("environments", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("release_kinds", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["notification_channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_notification_subscriptions_channel_id", "notification_subscriptions", ["channel_id"]
    )
    op.create_table(
        "notification_dedupe",
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("destination", "key"),
    )


def downgrade() -> None:
    op.drop_table("notification_dedupe")
    op.drop_index(
        "ix_notification_subscriptions_channel_id", table_name="notification_subscriptions"
    )
    op.drop_table("notification_subscriptions")
