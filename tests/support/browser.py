"""What the browser journeys share: Chromium, a guard on the network, logging in, the server's commands."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import docx

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests" / "data" / "hostile"
SHOTS = ROOT / "docs" / "screenshots"
#: Noto CJK unpacked by scripts/test.sh, for Chromium only (see there why not installed).
CJK_FONTS = ROOT / ".venv" / "share" / "fonts-cjk" / "usr" / "share" / "fonts"
PASSWORD = "pw-浏览器-123456"
LOCAL_SCHEMES = ("data:", "blob:", "chrome:", "chrome-extension:", "about:")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gongkai(env, *args):
    done = subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def font_env(tmp_path) -> dict:
    """Chromium's environment: the system fonts plus the unpacked CJK font, if there."""
    if not CJK_FONTS.is_dir():
        return dict(os.environ)
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f'<dir>{CJK_FONTS}</dir><cachedir>{tmp_path / "fontcache"}</cachedir></fontconfig>\n',
                    encoding="utf-8")
    return dict(os.environ, FONTCONFIG_FILE=str(conf))


class Guard:
    """Lets through only network requests for the app's own origin; records and blocks the rest.

    The browser's own internal pages (its PDF viewer is ``chrome-extension://`` and
    ``chrome://``) and ``data:``/``blob:`` URLs never leave the machine and pass.
    """

    def __init__(self, base: str):
        self.origin = urlsplit(base)[:2]
        self.seen: list[str] = []
        self.foreign: list[str] = []

    def __call__(self, route):
        url = route.request.url
        self.seen.append(url)
        if url.startswith(LOCAL_SCHEMES) or urlsplit(url)[:2] == self.origin:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()


def new_page(browser, server, guard):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}, accept_downloads=True)
    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def log_in(page, base, username):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=who]").count() == 1, page.content()


def drop_file(page, selector: str, name: str) -> None:
    """Drag a small file named ``name`` from outside the page onto ``selector``."""
    data = page.evaluate_handle("""name => {
        const dt = new DataTransfer();
        dt.items.add(new File(["x"], name, {type: "application/octet-stream"}));
        return dt;
    }""", name)
    page.dispatch_event(selector, "drop", {"dataTransfer": data})


def make_docx(path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("县农业农村局关于开展秸秆综合利用工作的通知")
    d.add_paragraph("各乡镇人民政府：")
    d.add_paragraph("为全面推进农村人居环境整治提升行动，现就做好今年秸秆综合利用工作通知如下。"
                    "各乡镇要加强宣传引导，落实属地责任，确保秸秆综合利用率达到百分之九十以上。")
    d.add_paragraph("县农业农村局")
    d.add_paragraph("2026年10月9日")
    d.save(path)
    return path
