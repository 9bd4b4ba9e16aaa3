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


def test_accounts_from_before_the_lockout_columns_start_unlocked_and_keep_their_password(engine):
    command.downgrade(alembic_config(engine), "0004")
    assert current(engine) == "0004"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, display_name, password_hash, role, active, created_at) "
                          "VALUES ('old', 'old', 'x', 'reviewer', :yes, CURRENT_TIMESTAMP)"), {"yes": True})
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT failed_logins, locked_until, must_change_password, password_changed_at "
                                "FROM users WHERE username = 'old'")).one()
    # not asked to change a password they already use; its age counts from this upgrade
    assert tuple(row[:3]) == (0, None, False) and row[3] is not None


def test_entries_from_before_the_kind_column_get_their_kind_and_still_verify(engine):
    from sqlalchemy.orm import sessionmaker

    from service import audit, audit_query as auditlog
    from service.db import transaction

    sessions = sessionmaker(engine, expire_on_commit=False)
    command.downgrade(alembic_config(engine), "0005")
    with engine.begin() as conn:   # written as the code before 0006 wrote them: no kind column
        for seq, (action, prev) in enumerate((("login", audit.GENESIS), ("user.password_reset", None)), 1):
            prev = prev or conn.execute(text("SELECT hash FROM audit_log WHERE seq = 1")).scalar_one()
            at = audit.utcnow()
            digest = audit.chain_hash(prev, audit.canonical(seq, at, "adm", action, None, {}))
            conn.execute(text("INSERT INTO audit_log (seq, at, actor, action, document_id, detail, prev_hash, hash) "
                              "VALUES (:seq, :at, 'adm', :action, NULL, '{}', :prev, :hash)"),
                         {"seq": seq, "at": at, "action": action, "prev": prev, "hash": digest})
        conn.execute(text("UPDATE audit_head SET last_seq = 2, last_hash = :h"), {"h": digest})
    upgrade(engine)
    with transaction(sessions, readonly=True) as s:
        assert audit.verify(s).ok
        assert [e["action"] for e in auditlog.page(s, auditlog.parse({"kind": "user"}))[0]] == ["user.password_reset"]
        assert [e["action"] for e in auditlog.page(s, auditlog.parse({"kind": "login"}))[0]] == ["login"]
