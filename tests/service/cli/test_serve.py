"""`gongkai serve`: the one command a county runs — web, workers and an embedded Redis."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from build_pdf import build_pdf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)", text, re.M)
        if match and int(match.group(1)) == pid:
            found.add(int(status.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def redis_servers_in(directory: str) -> list[int]:
    """Running redis-server processes whose command line or config lives in ``directory``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace")
            cwd = os.readlink(cmdline.parent / "cwd")
        except OSError:
            continue
        if "redis-server" in args and (directory in args or cwd == directory) and alive(int(cmdline.parent.name)):
            found.append(int(cmdline.parent.name))
    return found


def gongkai(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env.update(GONGKAI_DATA_DIR=str(tmp_path / "data"), GONGKAI_WORKERS="1", GONGKAI_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    password, lines = None, []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if m := re.search(r"初始密码 (\S+)", line):
            password = m.group(1)
        if "已启动" in line or proc.poll() is not None:
            break
    assert password and proc.poll() is None, "".join(lines)
    yield {"proc": proc, "url": f"http://127.0.0.1:{port}", "env": env, "password": password}
    stop_serve(proc)


def stop_serve(proc) -> None:
    """As an operator stops it (SIGTERM): serve stops its workers and Redis. SIGKILL would
    leave the embedded redis-server running after the test."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_serve_runs_upload_to_review_and_stops_cleanly(served, tmp_path):
    url, env = served["url"], served["env"]
    assert gongkai(env, "departments", "add", "mzj", "县民政局").returncode == 0
    assert gongkai(env, "users", "add", "clerk", "--role", "uploader", "--department", "mzj",
                   "--password", "pw-123456").returncode == 0

    clerk = requests.Session()
    login = clerk.post(f"{url}/api/v1/login", json={"username": "clerk", "password": "pw-123456"}).json()
    # the operator chose that password: the clerk replaces it before anything else
    assert login["must_change_password"] is True
    headers = {"X-CSRF-Token": login["csrf_token"]}
    assert clerk.get(f"{url}/api/v1/documents").json()["error"]["code"] == "password_change_required"
    changed = clerk.post(f"{url}/api/v1/account/password", headers=headers,
                         json={"current_password": "pw-123456", "new_password": "my-own-2026"})
    assert changed.status_code == 200, changed.text
    login["csrf_token"] = changed.json()["csrf_token"]
    pdf = build_pdf(tmp_path / "通知.pdf", [["县民政局关于开展社会救助政策宣传月活动的通知", "各乡镇人民政府：",
                                           "现将有关事项通知如下。"]])
    with open(pdf, "rb") as fh:
        up = clerk.post(f"{url}/api/v1/documents", files={"file": ("通知.pdf", fh)},
                        headers={"X-CSRF-Token": login["csrf_token"]})
    assert up.status_code == 202, up.text
    doc_id = up.json()["id"]
    deadline, status = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        status = clerk.get(f"{url}/api/v1/documents/{doc_id}").json()["status"]
        if status in ("pending_review", "failed"):
            break
        time.sleep(0.3)
    assert status == "pending_review"

    admin = requests.Session()
    assert admin.post(f"{url}/api/v1/login", json={"username": "admin", "password": served["password"]}).ok

    proc = served["proc"]
    workers = children_of(proc.pid)
    assert len(workers) == 1  # GONGKAI_WORKERS=1
    (worker,) = workers
    environ = dict(item.split("=", 1) for item in Path(f"/proc/{worker}/environ").read_text().split("\0")
                   if "=" in item)
    socket_path = environ["GONGKAI_REDIS_URL"].removeprefix("unix://")
    redis_dir = str(Path(socket_path).parent)
    assert redis_servers_in(redis_dir), "the embedded redis-server is running"

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    time.sleep(1)
    assert not alive(worker), "worker left running"
    assert not redis_servers_in(redis_dir), "embedded redis-server left running"
    assert gongkai(env, "audit", "verify").returncode == 0
    assert gongkai(env, "check").returncode == 0


def test_import_and_background_reclassify_reach_the_embedded_redis_of_a_running_serve(served, tmp_path):
    """Next to the one-command deployment, `gongkai import` needs no GONGKAI_REDIS_URL: it
    finds the embedded Redis the running serve announced for this data directory."""
    env = served["env"]
    assert "GONGKAI_REDIS_URL" not in env
    assert gongkai(env, "departments", "add", "zfb", "县政府办公室").returncode == 0
    folder = tmp_path / "历史文件"
    folder.mkdir()
    for n, title in enumerate(["县人民政府办公室关于做好防汛工作的通知", "县民政局2025年工作要点"]):
        build_pdf(folder / f"{n}.pdf", [[title, "各乡镇人民政府：", "现将有关事项通知如下。"]])
    (folder / "空.pdf").write_bytes(b"")

    done = gongkai(env, "import", str(folder), "--department", "zfb", "--wait", "--json", "--no-progress")
    assert done.returncode == 1, done.stderr          # one file failed (empty), the others were processed
    summary = json.loads(done.stdout)
    assert summary["states"] == {"pending_review": 2}, summary
    assert [f["code"] for f in summary["failures"]] == ["empty_file"]
    assert "空的" in summary["failures"][0]["message"]  # the clerk's reason, not only a code

    queued = gongkai(env, "reclassify", "--background", "--wait", "--json", "--no-progress")
    assert queued.returncode == 0, queued.stderr
    assert json.loads(queued.stdout)["status"] == "ready"

    again = gongkai(env, "serve", "--port", str(free_port()))
    assert again.returncode == 2
    assert "已有一个正在运行的 gongkai serve" in again.stderr

    served["proc"].send_signal(signal.SIGTERM)
    assert served["proc"].wait(timeout=60) == 0
    assert not (Path(env["GONGKAI_DATA_DIR"]) / "redis" / "serve.json").exists()
    after = gongkai(env, "import", str(folder), "--department", "zfb", "--no-progress")
    assert after.returncode == 2
    assert "gongkai serve" in after.stderr and "GONGKAI_REDIS_URL" in after.stderr


def test_serve_on_a_port_in_use_says_so_before_starting_anything(served, tmp_path):
    port = served["url"].rsplit(":", 1)[1]
    env = dict(served["env"], GONGKAI_DATA_DIR=str(tmp_path / "other"))
    done = gongkai(env, "serve", "--port", port)
    assert done.returncode == 2
    assert f"端口 127.0.0.1:{port} 已被占用" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "other").exists()   # no data directory, no admin account, no workers


def start_serve(env, port: int) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        lines.append(proc.stdout.readline())
        if "已启动" in lines[-1] or proc.poll() is not None:
            break
    assert proc.poll() is None, "".join(lines)
    return proc, lines


def embedded_redis_pid(env) -> int:
    import redis

    marker = json.loads((Path(env["GONGKAI_DATA_DIR"]) / "redis" / "serve.json").read_text(encoding="utf-8"))
    client = redis.Redis.from_url(marker["redis_url"])
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


@pytest.mark.parametrize("how", ["SIGKILL", "SIGHUP"])
def test_a_killed_or_hung_up_serve_leaves_nothing_running_for_long(served, how):
    """SIGHUP (the terminal closed) stops everything like SIGTERM. SIGKILL cannot be caught:
    the workers stop with serve, and the next serve on the data directory shuts down the
    embedded Redis the killed one left, saving its queue first."""
    proc, env = served["proc"], served["env"]
    (worker,) = children_of(proc.pid)
    redis_pid = embedded_redis_pid(env)
    proc.send_signal(getattr(signal, how))
    proc.wait(timeout=60)
    deadline = time.monotonic() + 30
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(worker), "worker left running"
    if how == "SIGHUP":
        assert not alive(redis_pid), "embedded redis-server left running"
        return
    assert alive(redis_pid)                     # nothing could stop it when serve was killed
    again, lines = start_serve(env, free_port())
    try:
        assert any("已关闭上次异常退出时遗留的内嵌 Redis" in line for line in lines), "".join(lines)
        assert not alive(redis_pid), "the orphaned redis-server is still running"
        assert embedded_redis_pid(env) != redis_pid
    finally:
        stop_serve(again)


def test_a_port_outside_the_range_is_a_usage_error_and_a_bad_gongkai_port_spoils_no_other_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env["GONGKAI_DATA_DIR"] = str(tmp_path / "data")
    done = gongkai(env, "serve", "--port", "99999")
    assert done.returncode == 2 and "端口应为 1–65535 之间的整数：99999" in done.stderr
    env["GONGKAI_PORT"] = "abc"
    assert "端口应为" in gongkai(env, "web").stderr
    assert gongkai(env, "db", "upgrade").returncode == 0       # read only by serve and web
    assert not (tmp_path / "data" / "redis").exists()


def test_web_runs_several_processes_on_one_port_and_starts_a_dead_one_again(tmp_path, redis_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env.update(GONGKAI_DATA_DIR=str(tmp_path / "data"), GONGKAI_REDIS_URL=redis_url, GONGKAI_SECRET_KEY="x" * 32,
               GONGKAI_PORT=str(port))
    assert gongkai(env, "db", "upgrade").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "web", "--processes", "2", "--threads", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert "已启动" in line and "2 个进程" in line, line
        url = f"http://127.0.0.1:{port}/catalogue"
        deadline = time.monotonic() + 60
        while len(children_of(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        servers = children_of(proc.pid)
        assert len(servers) == 2
        with requests.Session() as http:
            assert all(http.get(url, timeout=30).status_code == 200 for _ in range(6))
        dead = servers.pop()
        os.kill(dead, signal.SIGKILL)               # a server dies: the port is still answered ...
        assert requests.get(url, timeout=30).status_code == 200
        deadline = time.monotonic() + 60            # ... and a new server takes its place
        while (len(children_of(proc.pid) - {dead}) < 2) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(children_of(proc.pid) - {dead}) == 2
        assert requests.get(url, timeout=30).status_code == 200
        everyone = children_of(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert proc.returncode == 0 and not any(alive(pid) for pid in everyone)
