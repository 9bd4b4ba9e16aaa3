"""The long-lived objects one process needs: settings, database, storage, queue.

Built once per process (web server, worker, CLI command) from ``Settings`` and passed
in; job functions, which rq calls with ids only, reach it through ``current()``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from service import config as config_module
from service.db import make_engine, session_factory
from service.errors import ConfigError
from service.queue import ingest_queue
from service.redis_server import connect_redis
from service.storage import LocalStorage, Storage


@dataclass
class Runtime:
    settings: config_module.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    storage: Storage
    _redis: object | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: config_module.Settings) -> Runtime:
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(config_module.database_url(settings))
        if settings.storage != "local":
            raise ConfigError(what=f"GONGKAI_STORAGE={settings.storage!r} (only 'local' is built in)")
        storage = LocalStorage(data_dir / "originals")
        return cls(settings=settings, engine=engine, sessions=session_factory(engine), storage=storage)

    @property
    def redis(self):
        if self._redis is None:

            self._redis = connect_redis(self.settings)
        return self._redis

    @property
    def queue(self):

        return ingest_queue(self.redis, self.settings.queue_name)

    def close(self) -> None:
        self.engine.dispose()
        if self._redis is not None:
            self._redis.close()


_current: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Runtime.from_settings(config_module.load())
        return _current


def install(runtime: Runtime) -> None:
    """Make ``runtime`` the one job functions use (workers and tests call this)."""
    global _current
    with _lock:
        _current = runtime
