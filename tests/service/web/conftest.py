"""Fixtures of the browser journeys: a real ``gongkai serve`` with five people, and Chromium: the site
named, 索引号 in the national form, two review stages (the default)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from browser import CHROMIUM, FLAGS, PASSWORD, font_env, free_port, gongkai
from testenv import unique_queue_name


#: The national 索引号 form (统一社会信用代码/年份-流水号), with 18-character codes whose GB 32100 check
#: character is right (the first is a real one, from a county's published 索引号).
INDEX_TEMPLATE = "{credit_code}/{year}-{seq:05d}"
CREDIT_CODES = {"nyj": "113708280043326001", "mzj": "91350100M000100Y43"}


@pytest.fixture
def server(tmp_path, redis_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env.update(GONGKAI_DATA_DIR=str(tmp_path / "data"), GONGKAI_WORKERS="1", GONGKAI_PORT=str(port),
               GONGKAI_REDIS_URL=redis_url, GONGKAI_QUEUE_NAME=unique_queue_name(),
               GONGKAI_SITE_NAME="蒙阴县人民政府", GONGKAI_INDEX_NUMBER_TEMPLATE=INDEX_TEMPLATE)
    with open(tmp_path / "serve.log", "w+") as log:   # the server keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if "已启动" in (tmp_path / "serve.log").read_text():
            break
        time.sleep(0.2)
    assert proc.poll() is None, (tmp_path / "serve.log").read_text()
    gongkai(env, "departments", "add", "nyj", "县农业农村局", "--credit-code", CREDIT_CODES["nyj"])
    gongkai(env, "departments", "add", "mzj", "县民政局", "--credit-code", CREDIT_CODES["mzj"])
    for name, role, dept in (("clerk", "uploader", "nyj"), ("other", "uploader", "mzj"), ("checker", "reviewer", None),
                             ("lead", "signer", None), ("boss", "admin", None)):
        gongkai(env, "users", "add", name, "--role", role, *(["--department", dept] if dept else []), "--permanent",
                "--name", {"clerk": "王文书", "other": "李干事", "checker": "赵审核", "lead": "孙局长",
                           "boss": "钱管理"}[name], "--password", PASSWORD)
    yield {"url": f"http://127.0.0.1:{port}", "log": tmp_path / "serve.log"}
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, env=font_env(tmp_path))
        yield b
        b.close()
