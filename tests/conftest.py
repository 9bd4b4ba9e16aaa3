"""Shared fixtures. Test files live in tests/data (copied from the project's shared corpus)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
if str(TESTS) not in sys.path:  # the fixture builders (build_pdf, build_docx) are plain modules here
    sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (DATA / "seed" / "county-annual-report.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Databases: every database test runs on SQLite and on PostgreSQL.
# ---------------------------------------------------------------------------

import os
import uuid

POSTGRES_URL = os.environ.get("GONGKAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else the reason it does not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def require_service(name: str, problem: str | None) -> None:
    """Skip on a laptop without the service; under CI nothing skips for a missing service."""
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} is required under CI but not reachable: {problem}")
    pytest.skip(f"{name} not reachable ({problem}); start it to run this test")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """A migrated, empty database: a SQLite file, or a fresh schema in PostgreSQL."""
    from sqlalchemy import create_engine, text

    from service.db import make_engine
    from service.migrate import upgrade

    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'gongkai.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return

    require_service("PostgreSQL", _postgres_reachable())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sessions(engine):
    from service.db import session_factory

    return session_factory(engine)
