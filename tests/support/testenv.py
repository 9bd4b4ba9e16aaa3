"""The test environment: where the data is, which services tests need, and how to reach them.

On a laptop without PostgreSQL, Redis or LibreOffice the tests that need them skip and say so;
under CI (``CI=true``) a missing service fails them (``require_service``).
"""
from __future__ import annotations

import os
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
DATA = TESTS / "data"
MODELS = ROOT / "models"
#: The version of the shipped default model (the one ``models/county-default/ACTIVE`` names).
SHIPPED_MODEL = (MODELS / "county-default" / "ACTIVE").read_text(encoding="utf-8").strip()
POSTGRES_URL = os.environ.get("GONGKAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_service(name: str, problem: str | None) -> None:
    """Skip on a laptop without the service; under CI nothing skips for a missing service."""
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} is required under CI but not reachable: {problem}")
    pytest.skip(f"{name} not reachable ({problem}); start it to run this test")


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


def _redis_reachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"


def _libreoffice_missing() -> str | None:
    from plugins.converter import find_soffice, find_uno_python

    if find_soffice() is None:
        return "soffice not installed (apt-get install libreoffice-writer-nogui)"
    if find_uno_python() is None:
        return "no Python with LibreOffice's uno (apt-get install python3-uno)"
    return None


def unique_queue_name() -> str:
    """Each test gets its own queue (and job ids), so runs sharing a Redis never cross."""
    return f"test-{uuid.uuid4().hex[:10]}"


def runtime_env(rt) -> dict:
    """The environment for a ``gongkai`` subprocess that should see exactly ``rt``'s settings."""
    env = dict(os.environ)
    env.update({f"GONGKAI_{name.upper()}": str(value) for name, value in asdict(rt.settings).items()})
    env["GONGKAI_DATABASE_URL"] = rt.engine.url.render_as_string(hide_password=False)
    return env
