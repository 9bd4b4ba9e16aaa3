"""A warm LibreOffice: one headless soffice and the UNO bridge that drives it.

Run by ``plugins/converter.py`` with the *system* Python, the one LibreOffice's
``python3-uno`` belongs to (the project's venv cannot import ``uno``)::

    /usr/bin/python3 soffice_bridge.py SOCKET PROFILE_DIR SOFFICE PARENT_PID

It starts ``soffice --headless`` in its own process group with its own user profile
(``-env:UserInstallation``), connects over a private UNO pipe and then answers requests
on the Unix socket ``SOCKET``, one at a time: a JSON line ``{"src", "dst", "filter",
"timeout"}`` in, a JSON line ``{"ok": true}`` or ``{"ok": false, "code", "detail"}`` out
(``code``: ``failed`` or ``timeout``). Only the standard library and ``uno``: this file
imports nothing from gongkai.

Bounds: every call into soffice runs under a deadline. A conversion that has not
finished by its ``timeout`` gets soffice's whole process group killed (SIGKILL) and the
answer ``timeout``. Before each request soffice is probed (one UNO round trip, 5 s);
it is replaced when it died or stopped answering, after ``RESTART_AFTER`` conversions,
or when its resident memory exceeds ``MAX_RSS``; its address space is capped at
``MAX_AS``. Documents load as a bare model (no frame, no view, no layout), read-only,
macros never executed, links never updated (a PDF export loads into a hidden frame: it needs
the pages laid out). The bridge exits (and kills soffice) on
SIGTERM and when the process that started it is gone.
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

RESTART_AFTER = 200
MAX_RSS = 600 * 1024 * 1024
MAX_AS = 4 * 1024 * 1024 * 1024
START_SECONDS = 60.0
PROBE_SECONDS = 5.0


def _props(**values):
    from com.sun.star.beans import PropertyValue

    found = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        found.append(prop)
    return tuple(found)


def _cap_memory() -> None:
    """This process's limits, inherited by every soffice it starts."""
    resource.setrlimit(resource.RLIMIT_AS, (MAX_AS, MAX_AS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _group_rss(pgid: int) -> int:
    """Resident bytes of every process in group ``pgid``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


class Office:
    """One soffice process group and a UNO desktop connected to it."""

    def __init__(self, soffice: str, profile: str) -> None:
        self.pipe = f"gongkai-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.proc = subprocess.Popen(
            [soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
             "--nolockcheck", "--nofirststartwizard", f"-env:UserInstallation=file://{profile}",
             f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.converted = 0
        self.ctx = self._connect()
        self.detection = self._service("com.sun.star.document.TypeDetection")

    def _connect(self):
        import uno
        from com.sun.star.connection import NoConnectException

        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                return resolver.resolve(f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
            except NoConnectException as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError("soffice did not start") from exc
                time.sleep(0.05)

    def _service(self, name: str):
        return self.ctx.ServiceManager.createInstanceWithContext(name, self.ctx)

    def import_filter(self, url: str) -> str:
        """The import filter LibreOffice's deep type detection chooses for ``url``."""
        type_name, _ = self.detection.queryTypeByDescriptor(_props(URL=url), True)
        if not type_name:
            raise RuntimeError("LibreOffice does not recognise the file")
        found = dict((p.Name, p.Value) for p in self.detection.getByName(type_name))
        if not found.get("PreferredFilter"):
            raise RuntimeError(f"no import filter for type {type_name}")
        return found["PreferredFilter"]

    def responds(self) -> bool:
        """soffice answers one UNO round trip within ``PROBE_SECONDS`` (a stopped or dying
        soffice may block the call: it runs under a deadline like everything sent to it)."""
        if self.proc.poll() is not None:
            return False
        done, outcome = _within(PROBE_SECONDS, lambda: self.ctx.ServiceManager is not None)
        return done and outcome is True

    def worn_out(self) -> bool:
        return self.converted >= RESTART_AFTER or _group_rss(self.proc.pid) > MAX_RSS

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def convert(self, src: str, dst: str, filter_name: str) -> None:
        import uno

        url = uno.systemPathToFileUrl(src)
        load = _props(URL=url, FilterName=self.import_filter(url), ReadOnly=True, Hidden=True,
                      MacroExecutionMode=0, UpdateDocMode=0)
        if filter_name.endswith("_pdf_Export"):
            # Pages need a layout: a hidden frame from the Desktop (the public PDF of a Word file).
            desktop = self._service("com.sun.star.frame.Desktop")
            doc = desktop.loadComponentFromURL(url, "_blank", 0, load[1:])
        else:
            # The model alone, without a frame or view (the Desktop's loadComponentFromURL
            # crashed soffice 7.4 on .doc files with comments, even hidden): no layout, faster.
            doc = self._service("com.sun.star.text.TextDocument")
            doc.load(load)
        try:
            doc.storeToURL(uno.systemPathToFileUrl(dst), _props(FilterName=filter_name, Overwrite=True))
        finally:
            doc.close(True)
        self.converted += 1


def _within(seconds: float, call):
    """Run ``call`` in a thread: (True, its result or exception) if it ended in time, else
    (False, None) and the thread is left to end when soffice is killed."""
    box: list = []

    def work() -> None:
        try:
            box.append(call())
        except Exception as exc:  # noqa: BLE001 - UNO raises its own exception types
            box.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    return (not thread.is_alive(), box[0] if box else None)


class Bridge:
    def __init__(self, soffice: str, profile: str) -> None:
        self.soffice, self.profile = soffice, profile
        self.office: Office | None = None

    def handle(self, request: dict) -> dict:
        office = self.office
        if office is not None and (office.worn_out() or not office.responds()):
            self._drop()
        if self.office is None:
            try:
                self.office = Office(self.soffice, self.profile)
            except Exception as exc:  # noqa: BLE001
                return {"ok": False, "code": "failed", "detail": f"start: {exc}"[:300]}
        timeout = float(request["timeout"])
        done, outcome = _within(timeout, lambda: self.office.convert(request["src"], request["dst"],
                                                                    request["filter"]))
        if not done:  # hung: kill soffice (which also ends the UNO call); a new one next time
            self._drop()
            return {"ok": False, "code": "timeout", "detail": f"no answer in {timeout} s"}
        if isinstance(outcome, Exception):
            if not self.office.responds():
                self._drop()
            return {"ok": False, "code": "failed", "detail": f"{type(outcome).__name__}: {outcome}"[:300]}
        return {"ok": True}

    def _drop(self) -> None:
        if self.office is not None:
            self.office.kill()
            self.office = None

    def close(self) -> None:
        if self.office is not None:
            self.office.kill()


def _serve_one(conn: socket.socket, bridge: Bridge) -> None:
    with conn, conn.makefile("rwb") as stream:
        line = stream.readline(1 << 16)
        if not line:
            return
        try:
            request = json.loads(line)
        except ValueError:
            return
        stream.write(json.dumps(bridge.handle(request)).encode() + b"\n")
        stream.flush()


def main(sock_path: str, profile: str, soffice: str, parent: int) -> None:
    _cap_memory()  # here, before any thread, rather than preexec_fn: soffice inherits it
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    bridge = Bridge(soffice, profile)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(sock_path)
    server.bind(sock_path)
    server.listen(8)
    server.settimeout(1.0)
    try:
        bridge.office = Office(soffice, profile)  # warm before the first request
        print("ready", flush=True)
        while os.getppid() == parent and not stopping.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            with contextlib.suppress(OSError):  # the client went away (its parse was killed): serve the next one
                _serve_one(conn, bridge)
    finally:
        bridge.close()
        server.close()
        shutil.rmtree(profile, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(sock_path)


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
    finally:
        os._exit(0)  # not the interpreter's shutdown: it can hang on UNO's bridge threads
