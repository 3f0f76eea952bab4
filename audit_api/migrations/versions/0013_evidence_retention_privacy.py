"""evidence retention and privacy blur (issue 13): the evidence registry, head regions, site privacy setting

Objects stored before this revision are registered as confirmed now: they were locked with the old fixed
retention, and the retention job extends them to the long retention instead of deleting them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:28:33.586674
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_objects",
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "clip",
                "snapshot",
                "segment",
                "still",
                "opening",
                "photo",
                "blurred",
                name="evidencekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("original_key", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retained_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_evidence_objects_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_evidence_objects_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("object_key", name=op.f("pk_evidence_objects")),
    )
    with op.batch_alter_table("evidence_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_objects_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_objects_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_objects_original_key"), ["original_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_objects_site_id"), ["site_id"], unique=False)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snapshot_heads", sa.JSON(), nullable=True))

    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heads", sa.JSON(), nullable=True))

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_deleted_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "privacy_blur",
                sa.Enum(
                    "external", "also_supervisors", "off", name="privacyblur", native_enum=False, length=32
                ),
                server_default="external",
                nullable=False,
            )
        )

    with op.batch_alter_table("violation_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heads", sa.JSON(), nullable=True))

    _register_existing()


_EXISTING = (
    (
        "SELECT c.object_key, m.site_id, c.event_id, c.kind, c.sha256, c.size, c.content_type, e.created_at "
        "FROM clips c JOIN events e ON e.id = c.event_id JOIN cameras m ON m.id = e.camera_id"
    ),
    (
        "SELECT s.object_key, m.site_id, s.event_id, 'segment', s.sha256, s.size, s.content_type, "
        "e.created_at "
        "FROM clip_segments s JOIN events e ON e.id = s.event_id JOIN cameras m ON m.id = e.camera_id"
    ),
    (
        "SELECT s.object_key, m.site_id, e.id, 'still', s.sha256, s.size, s.content_type, e.created_at "
        "FROM violation_snapshots s JOIN event_violations v ON v.id = s.violation_id "
        "JOIN events e ON e.id = v.event_id JOIN cameras m ON m.id = e.camera_id"
    ),
    (
        "SELECT p.object_key, m.site_id, e.id, 'photo', p.sha256, p.size, p.content_type, e.created_at "
        "FROM action_photos p JOIN action_responses r ON r.id = p.response_id "
        "JOIN corrective_actions a ON a.id = r.action_id JOIN events e ON e.id = a.event_id "
        "JOIN cameras m ON m.id = e.camera_id"
    ),
    (
        "SELECT a.snapshot_key, a.site_id, a.event_id, 'opening', a.snapshot_sha256, 0, 'image/jpeg', "
        "a.created_at FROM alerts a WHERE a.snapshot_key IS NOT NULL AND a.snapshot_sha256 IS NOT NULL"
    ),
)


def _register_existing() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    seen: set[str] = set()
    table = sa.table(
        "evidence_objects",
        *(sa.column(c) for c in ("object_key", "site_id", "event_id", "kind", "sha256", "size",
                                 "content_type", "created_at", "confirmed_at")),
    )  # fmt: skip
    rows = []
    for query in _EXISTING:
        for key, site_id, event_id, kind, sha256, size, content_type, created_at in bind.execute(
            sa.text(query)
        ):
            if key in seen:
                continue  # a content-addressed photo answered twice is one object
            seen.add(key)
            rows.append({"object_key": key, "site_id": site_id, "event_id": event_id, "kind": kind,
                         "sha256": sha256, "size": size, "content_type": content_type,
                         "created_at": created_at, "confirmed_at": now})  # fmt: skip
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    with op.batch_alter_table("violation_snapshots", schema=None) as batch_op:
        batch_op.drop_column("heads")

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("privacy_blur")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("evidence_deleted_at")

    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("heads")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("snapshot_heads")

    with op.batch_alter_table("evidence_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_objects_site_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_objects_original_key"))
        batch_op.drop_index(batch_op.f("ix_evidence_objects_event_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_objects_created_at"))

    op.drop_table("evidence_objects")
