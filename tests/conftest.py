"""Shared fixtures: databases (SQLite and PostgreSQL), Redis, LibreOffice, the app and the runtime.

Helpers that are not fixtures live in ``tests/support/`` (on the path through pytest's
``pythonpath``): ``testenv`` (services, paths), ``web_client`` (signing in), ``documents``
(rows for a test world), the file builders (``build_pdf``, ``build_docx`` …).
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from testenv import (
    DATA,
    MODELS,
    POSTGRES_URL,
    REDIS_URL,
    _libreoffice_missing,
    _postgres_reachable,
    _redis_reachable,
    require_service,
    unique_queue_name,
)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (DATA / "seed" / "county-annual-report.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Databases: every database test runs on SQLite and on PostgreSQL.
# ---------------------------------------------------------------------------

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


@pytest.fixture
def redis_url():
    """A real Redis (tests use their own queue names; see ``unique_queue_name``)."""
    require_service("Redis", _redis_reachable())
    return REDIS_URL


@pytest.fixture(scope="session")
def libreoffice():
    """LibreOffice with its UNO bridge, for .doc/.wps/.rtf (scripts/test.sh installs it)."""
    require_service("LibreOffice", _libreoffice_missing())


# ---------------------------------------------------------------------------
# The application and the runtime, as the tests of most modules need them.
# ---------------------------------------------------------------------------

@pytest.fixture
def make_app(db_url, redis_url, tmp_path):
    """``make_app(**settings)``: the web application on this test's database and Redis, closed after
    the test. ``with_models=True`` gives it its own copy of the shipped models (for tests that train
    or activate versions)."""
    from service.web import create_app

    made = []

    def make(with_models: bool = False, **settings):
        if with_models:
            models = tmp_path / "models"
            if not models.exists():
                shutil.copytree(MODELS / "county-default", models / "county-default")
            settings.setdefault("models_dir", str(models))
        app = create_app({"database_url": db_url, "redis_url": redis_url, "data_dir": str(tmp_path / "data"),
                          "secret_key": "test-secret", "queue_name": unique_queue_name(), **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["gongkai"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def make_runtime(db_url, tmp_path, request):
    """``make_runtime(department=("xzf", …), redis=False, **settings)``: a ``Runtime`` on this test's
    database (and Redis when asked), with one department, closed after the test."""
    from service import config
    from service.db import Department, transaction
    from service.runtime import Runtime

    made = []

    def make(department: tuple[str, str] | None = ("xzf", "XX县人民政府办公室"), redis: bool = False, **settings):
        values = {"database_url": db_url, "data_dir": str(tmp_path / "data"), **settings}
        if redis:
            values.setdefault("redis_url", request.getfixturevalue("redis_url"))
            values.setdefault("queue_name", unique_queue_name())
        runtime = Runtime.from_settings(config.load(values))
        made.append(runtime)
        if department:
            with transaction(runtime.sessions) as s:
                s.add(Department(code=department[0], name=department[1]))
        return runtime

    yield make
    for runtime in made:
        runtime.close()


@pytest.fixture
def rt(make_runtime):
    """A runtime with one department (``xzf``), no Redis."""
    return make_runtime()


@pytest.fixture(scope="session")
def cjk_font():
    """gongkai's CJK font (scripts/test.sh unpacks Noto CJK into .venv/share/fonts-cjk), for public PDFs."""
    from plugins.converter import font_dir
    from service.rendition.typeset import find_font

    found = find_font(font_dir())
    require_service("CJK font", None if found else "no Noto CJK under GONGKAI_FONT_DIR or .venv/share/fonts-cjk")
    return found
