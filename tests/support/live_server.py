"""A real HTTP server for tests that need parallel requests: the app on a free loopback port,
each request in its own thread, served from a thread of the test process (so the test can
read the database the server writes). ``gongkai serve`` itself is tested in
tests/service/cli/test_serve.py."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1, a thread per request; yield its base URL; stop it afterwards."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="http-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def signed_in(base: str, username: str, password: str) -> requests.Session:
    """A browser-like client signed in through the API (its session cookie and CSRF token)."""
    client = requests.Session()
    answer = client.post(f"{base}/api/v1/login", json={"username": username, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def copy_of(client: requests.Session) -> requests.Session:
    """Another connection with the same cookie and headers (a second tab, a double click)."""
    other = requests.Session()
    other.cookies.update(client.cookies)
    other.headers.update(client.headers)
    return other


def at_once(calls: list[Callable[[], Any]], timeout: float = 120) -> list[Any]:
    """Run ``calls`` in parallel threads released at the same moment; return their results in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results
