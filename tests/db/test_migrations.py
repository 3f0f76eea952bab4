"""Alembic's migrations build exactly the models' schema on SQLite and PostgreSQL, and undo cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from audit_api.db import DatabaseUnavailable, downgrade_to_base, make_engine, upgrade_to_head
from audit_api.models import Base


def test_upgrade_head_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_downgrade_base_then_upgrade_again(database_url: str) -> None:
    downgrade_to_base(database_url)
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_to_head(database_url)
        inspect(engine).clear_cache()
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("nosuchdialect://host/db", "invalid database URL"),
        ("not a url at all", "invalid database URL"),
        ("sqlite:////nonexistent-siteaudit-dir/x.db", "cannot connect"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot connect"),
    ],
)
def test_broken_url_raises_database_unavailable(url: str, fragment: str) -> None:
    with pytest.raises(DatabaseUnavailable, match=fragment) as info:
        upgrade_to_head(url)
    assert "\n" not in str(info.value)


def test_password_is_hidden_in_errors() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        make_engine("postgresql+psycopg://user:hunter2secret@127.0.0.1:1/none")
    assert "hunter2secret" not in str(info.value)
