"""Shared fixtures. Test files live in tests/data (copied from the project's shared corpus)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
#: The version of the shipped default model (the one ``models/county-default/ACTIVE`` names).
SHIPPED_MODEL = (TESTS.parent / "models" / "county-default" / "ACTIVE").read_text(encoding="utf-8").strip()
# The project root first, so ``service`` is the application package and never the
# namespace formed by tests/service; then tests/ itself for the fixture builders
# (build_pdf, build_docx), which are plain modules.
for _path in (str(TESTS), str(TESTS.parent)):
    if _path in sys.path:
        sys.path.remove(_path)
    sys.path.insert(0, _path)


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
def db_url(request, tmp_path):
    """The URL of a migrated, empty database: a SQLite file, or a fresh schema in PostgreSQL."""
    from sqlalchemy import create_engine, text

    from service.db import make_engine
    from service.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gongkai.db'}"
        eng = make_engine(url)
        upgrade(eng)
        eng.dispose()
        yield url
        return

    require_service("PostgreSQL", _postgres_reachable())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        eng = make_engine(url)
        upgrade(eng)
        eng.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url):
    from service.db import make_engine

    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    from service.db import session_factory

    return session_factory(engine)


REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"


def unique_queue_name() -> str:
    """Each test gets its own queue (and job ids), so runs sharing a Redis never cross."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def redis_url():
    """A real Redis (tests use their own queue names; see ``unique_queue_name``)."""
    require_service("Redis", _redis_reachable())
    return REDIS_URL


def _libreoffice_missing() -> str | None:
    from plugins.converter import find_soffice, find_uno_python

    if find_soffice() is None:
        return "soffice not installed (apt-get install libreoffice-writer-nogui)"
    if find_uno_python() is None:
        return "no Python with LibreOffice's uno (apt-get install python3-uno)"
    return None


@pytest.fixture(scope="session")
def libreoffice():
    """LibreOffice with its UNO bridge, for .doc/.wps/.rtf (scripts/test.sh installs it)."""
    require_service("LibreOffice", _libreoffice_missing())


def runtime_env(rt) -> dict:
    """The environment for a ``gongkai`` subprocess that should see exactly ``rt``'s settings."""
    from dataclasses import asdict

    env = dict(os.environ)
    env.update({f"GONGKAI_{name.upper()}": str(value) for name, value in asdict(rt.settings).items()})
    env["GONGKAI_DATABASE_URL"] = rt.engine.url.render_as_string(hide_password=False)
    return env
