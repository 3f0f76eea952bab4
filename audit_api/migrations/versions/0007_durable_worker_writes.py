"""stable keys for worker writes: event sources (item key, lease epoch, close applied), interval keys

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_sources",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=128), nullable=True),
        sa.Column("lease_epoch", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_sources_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_event_sources")),
    )
    with op.batch_alter_table("event_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_sources_event_id"), ["event_id"], unique=False)
    with op.batch_alter_table("unmonitored_intervals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_key", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_epoch", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_unmonitored_intervals_source_key"), ["source_key"])


def downgrade() -> None:
    with op.batch_alter_table("unmonitored_intervals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_unmonitored_intervals_source_key"), type_="unique")
        batch_op.drop_column("lease_epoch")
        batch_op.drop_column("source_key")
    with op.batch_alter_table("event_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_sources_event_id"))
    op.drop_table("event_sources")
