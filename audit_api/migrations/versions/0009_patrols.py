"""remote patrols (issue 15): plans, rounds, steps, flagged slots; alerts that are no event (notices)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:11:25.477717
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrol_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("times", sa.JSON(), nullable=False),
        sa.Column("grace_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_patrol_plans_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_plans")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_patrol_plans_site_id_name")),
    )
    with op.batch_alter_table("patrol_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_plans_site_id"), ["site_id"], unique=False)

    op.create_table(
        "patrol_plan_cameras",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_patrol_plan_cameras_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["patrol_plans.id"],
            name=op.f("fk_patrol_plan_cameras_plan_id_patrol_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "camera_id", name=op.f("pk_patrol_plan_cameras")),
    )
    op.create_table(
        "patrol_plan_inspectors",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["patrol_plans.id"],
            name=op.f("fk_patrol_plan_inspectors_plan_id_patrol_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_patrol_plan_inspectors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "user_id", name=op.f("pk_patrol_plan_inspectors")),
    )
    op.create_table(
        "patrol_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("slot_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "complete", "incomplete", name="roundstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["users.id"],
            name=op.f("fk_patrol_rounds_inspector_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["patrol_plans.id"],
            name=op.f("fk_patrol_rounds_plan_id_patrol_plans"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_rounds")),
    )
    with op.batch_alter_table("patrol_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_rounds_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrol_rounds_slot_at"), ["slot_at"], unique=False)

    op.create_table(
        "patrol_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum("ok", "finding", name="stepverdict", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("seconds", sa.Double(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("still_sha256", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_patrol_steps_camera_id_cameras"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_patrol_steps_event_id_events"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["patrol_rounds.id"],
            name=op.f("fk_patrol_steps_round_id_patrol_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_steps")),
        sa.UniqueConstraint("round_id", "position", name=op.f("uq_patrol_steps_round_id_position")),
    )
    with op.batch_alter_table("patrol_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_steps_round_id"), ["round_id"], unique=False)

    op.create_table(
        "patrol_misses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_patrol_misses_alert_id_alerts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["patrol_plans.id"],
            name=op.f("fk_patrol_misses_plan_id_patrol_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_misses")),
        sa.UniqueConstraint("plan_id", "slot_at", name=op.f("uq_patrol_misses_plan_id_slot_at")),
    )
    with op.batch_alter_table("patrol_misses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_misses_plan_id"), ["plan_id"], unique=False)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patrol_misses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_misses_plan_id"))

    op.drop_table("patrol_misses")
    with op.batch_alter_table("patrol_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_steps_round_id"))

    op.drop_table("patrol_steps")
    with op.batch_alter_table("patrol_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_rounds_slot_at"))
        batch_op.drop_index(batch_op.f("ix_patrol_rounds_plan_id"))

    op.drop_table("patrol_rounds")
    op.drop_table("patrol_plan_inspectors")
    op.drop_table("patrol_plan_cameras")
    with op.batch_alter_table("patrol_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_plans_site_id"))

    op.drop_table("patrol_plans")
    # Notices (patrol_missed) cannot exist in the older schema.
    op.execute(
        "DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'patrol_missed')"
    )
    op.execute("DELETE FROM alerts WHERE kind = 'patrol_missed'")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("detail")
