"""Migrations on SQLite and PostgreSQL: the schema they build is the one the models describe."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service.db import Base
from service.migrate import alembic_config, current, upgrade

# The full-text index is built by migration 0002 outside the ORM (FTS5 / tsvector).
OUTSIDE_THE_MODELS = "document_search"


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if OUTSIDE_THE_MODELS not in repr(d)] == []


def test_accounts_from_before_the_lockout_columns_start_unlocked(engine):
    command.downgrade(alembic_config(engine), "0004")
    assert current(engine) == "0004"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, display_name, password_hash, role, active, created_at) "
                          "VALUES ('old', 'old', 'x', 'reviewer', :yes, CURRENT_TIMESTAMP)"), {"yes": True})
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT failed_logins, locked_until FROM users WHERE username = 'old'")).one()
    assert tuple(row) == (0, None)
