"""evidence for every violation: an event's recorded span in segments, one still per violation (issue 12)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clip_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_clip_segments_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip_segments")),
        sa.UniqueConstraint("event_id", "index", name=op.f("uq_clip_segments_event_id_index")),
        sa.UniqueConstraint("object_key", name=op.f("uq_clip_segments_object_key")),
    )
    with op.batch_alter_table("clip_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clip_segments_event_id"), ["event_id"], unique=False)

    op.create_table(
        "violation_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["event_violations.id"],
            name=op.f("fk_violation_snapshots_violation_id_event_violations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violation_snapshots")),
        sa.UniqueConstraint("object_key", name=op.f("uq_violation_snapshots_object_key")),
        sa.UniqueConstraint("violation_id", name=op.f("uq_violation_snapshots_violation_id")),
    )


def downgrade() -> None:
    op.drop_table("violation_snapshots")
    with op.batch_alter_table("clip_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clip_segments_event_id"))
    op.drop_table("clip_segments")
