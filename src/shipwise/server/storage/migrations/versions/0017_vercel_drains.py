"""vercel drains: web vitals, requests and custom events Vercel delivers, and the links
from Vercel deployments to commits (issue 15)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drain_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("route", sa.String(length=500), nullable=True),
        sa.Column("deployment", sa.String(length=100), nullable=True),
        sa.Column("environment", sa.String(length=63), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_drain_records_lookup", "drain_records", ["project_id", "kind", "name", "at"]
    )
    op.create_index("ix_drain_records_at", "drain_records", ["at"])
    op.create_table(
        "vercel_deployments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("deployment", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=63), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "deployment"),
    )
    op.create_index(
        "ix_vercel_deployments_commit",
        "vercel_deployments",
        ["project_id", "environment", "commit"],
    )


def downgrade() -> None:
    op.drop_index("ix_vercel_deployments_commit", table_name="vercel_deployments")
    op.drop_table("vercel_deployments")
    op.drop_index("ix_drain_records_at", table_name="drain_records")
    op.drop_index("ix_drain_records_lookup", table_name="drain_records")
    op.drop_table("drain_records")
