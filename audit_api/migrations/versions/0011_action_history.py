"""corrective actions: responsible supervisor, who opened it, responses with photos, decisions (issue 12)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("corrective_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supervisor_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("opened_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_corrective_actions_supervisor_id_users"),
            "users",
            ["supervisor_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_corrective_actions_opened_by_id_users"),
            "users",
            ["opened_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    op.create_table(
        "action_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_actions.id"],
            name=op.f("fk_action_responses_action_id_corrective_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["users.id"],
            name=op.f("fk_action_responses_supervisor_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_responses")),
    )
    with op.batch_alter_table("action_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_responses_action_id"), ["action_id"], unique=False)

    op.create_table(
        "action_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["action_responses.id"],
            name=op.f("fk_action_photos_response_id_action_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_photos")),
    )
    with op.batch_alter_table("action_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_photos_response_id"), ["response_id"], unique=False)

    op.create_table(
        "action_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_actions.id"],
            name=op.f("fk_action_decisions_action_id_corrective_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["users.id"],
            name=op.f("fk_action_decisions_inspector_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_decisions")),
    )
    with op.batch_alter_table("action_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_decisions_action_id"), ["action_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_decisions_action_id"))
    op.drop_table("action_decisions")
    with op.batch_alter_table("action_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_photos_response_id"))
    op.drop_table("action_photos")
    with op.batch_alter_table("action_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_responses_action_id"))
    op.drop_table("action_responses")
    with op.batch_alter_table("corrective_actions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_corrective_actions_opened_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_corrective_actions_supervisor_id_users"), type_="foreignkey")
        batch_op.drop_column("opened_by_id")
        batch_op.drop_column("supervisor_id")
