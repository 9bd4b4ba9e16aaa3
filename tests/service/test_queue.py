"""service/queue.py: finding the Redis the workers listen on."""
import json
import os
import subprocess
import sys

from service import config
from service.redis_server import announce_embedded_redis, serve_marker_path, shared_redis_url, withdraw_embedded_redis


def write_marker(settings, pid: int, url: str) -> None:
    path = serve_marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "redis_url": url}), encoding="utf-8")


def test_configured_url_wins(tmp_path):
    settings = config.load({"data_dir": tmp_path, "redis_url": "redis://elsewhere:6379/0"})
    write_marker(settings, os.getpid(), "redis://127.0.0.1:1/0")
    assert shared_redis_url(settings) == "redis://elsewhere:6379/0"


def test_nothing_running_means_no_url(tmp_path):
    assert shared_redis_url(config.load({"data_dir": tmp_path})) == ""
    settings = config.load({"data_dir": tmp_path})
    serve_marker_path(settings).parent.mkdir(parents=True)
    serve_marker_path(settings).write_text("{not json", encoding="utf-8")
    assert shared_redis_url(settings) == ""


def test_a_marker_left_by_a_killed_serve_is_ignored(tmp_path, redis_url):
    settings = config.load({"data_dir": tmp_path})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    write_marker(settings, int(dead.stdout), redis_url)          # its process is gone
    assert shared_redis_url(settings) == ""
    write_marker(settings, os.getpid(), "unix:///nonexistent/redis.socket")   # alive, but no Redis there
    assert shared_redis_url(settings) == ""


def test_a_running_serve_is_found_and_its_marker_withdrawn(tmp_path, redis_url):
    settings = config.load({"data_dir": tmp_path})
    announce_embedded_redis(settings, redis_url)
    assert shared_redis_url(settings) == redis_url
    other = config.load({"data_dir": tmp_path / "elsewhere"})
    assert shared_redis_url(other) == ""                          # another data directory, another deployment
    withdraw_embedded_redis(settings)
    assert not serve_marker_path(settings).exists()
    assert shared_redis_url(settings) == ""
