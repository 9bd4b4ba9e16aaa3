"""Convert a file to .docx with LibreOffice: warm when possible, cold otherwise.

**Warm** (the normal case): a long-lived bridge (``plugins/soffice_bridge.py``, run by the
system Python that has LibreOffice's ``uno``) keeps one headless soffice running and
converts over a private UNO pipe; this side sends it one request per file over a Unix
socket. ~0.1 s per 2-page document instead of ~1 s and ~210 MB for a cold start.
**Cold** (no ``uno`` on the machine): ``soffice --convert-to`` per file, in its own
process group, one at a time per owner (they share its profile), killed at the deadline.

Where the warm converter lives. Parsers run in a child forked by the parse server
(``service/parsing/parse_server.py``) with an address-space limit of 1 GiB over the server's size, a
CPU limit per parse and a wall deadline after which the child is killed. A soffice
started *from that child* would inherit those limits (its CPU seconds would add up over
thousands of files until SIGXCPU) and, as the child's helper, would be orphaned or lost
whenever the child is replaced. So the bridge belongs to the parse server, one per
server — that is one per worker process — and is a sibling of the parse children:

- the server calls the plugin's optional ``prepare()`` before each parse it hands to a
  child (``service/parsing/parse_server.py``); ``prepare()`` starts the bridge the first time and
  again whenever it has died. It is the only place that starts one in production;
- the child only connects to the bridge's socket, whose path is derived from the
  server's pid (``GONGKAI_PARSE_SERVER_PID``, set by the server for its children), so a
  child forked before the bridge existed finds it too;
- the bridge enforces the conversion deadline itself (``timeout``, below the sandbox's
  wall limit): a hung or runaway conversion gets soffice's process group killed and the
  answer ``converter_failed``, and soffice is restarted for the next file; it also
  restarts soffice after 200 files or past 600 MB resident, and caps its address space;
- when the server exits, the bridge notices within a second and kills soffice.

Outside a parse server (tests, benchmarks, a direct fork) the process that parses is
the owner and starts its own bridge on first use.

Each soffice has its own user profile (``-env:UserInstallation``) under the temp dir,
``gongkai-office-<uid>/profile-<owner pid>``, removed with its bridge; what a dead owner
left (a cold converter's profile, a bridge killed by SIGKILL) is swept by the next owner.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from service.parsers import ConverterFailed, ConverterMissing

DOCX_FILTER = "MS Word 2007 XML"
#: Seconds one conversion may take before soffice is killed (the sandbox's wall limit is 120 s).
TIMEOUT = 60.0
_SERVER_PID = "GONGKAI_PARSE_SERVER_PID"
_BRIDGE = Path(__file__).with_name("soffice_bridge.py")
_SOFFICE_CANDIDATES = ("soffice", "libreoffice", "/usr/lib/libreoffice/program/soffice",
                       "/opt/libreoffice/program/soffice")
_PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python",
                      "/opt/libreoffice/program/python")


def find_soffice(candidates: tuple[str, ...] = _SOFFICE_CANDIDATES) -> str | None:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def find_uno_python() -> str | None:
    """A Python that can ``import uno`` (Debian's python3-uno, or LibreOffice's own)."""
    for candidate in _PYTHON_CANDIDATES:
        if os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=30)
            if probe.returncode == 0:
                return candidate
    return None


#: Where gongkai's own CJK fonts are (default: ``<venv>/share/fonts-cjk``, where the README's
#: commands unpack Noto CJK). They are given to LibreOffice through its own fontconfig file, not
#: installed in /usr/share/fonts: PDFium reads the fonts there, and a CJK font there changes the
#: text it extracts from PDFs whose fonts lack a ToUnicode map.
FONT_DIR_VARIABLE = "GONGKAI_FONT_DIR"


def font_dir() -> Path | None:
    folder = Path(os.environ.get(FONT_DIR_VARIABLE) or Path(sys.prefix) / "share" / "fonts-cjk")
    return folder if folder.is_dir() else None


def office_env() -> dict[str, str]:
    """soffice's environment: the system's fonts and gongkai's CJK fonts (a public PDF of a Word file
    shows its Chinese text; without a CJK font LibreOffice draws empty boxes)."""
    fonts = font_dir()
    if fonts is None:
        return dict(os.environ)
    conf = work_dir() / "fonts.conf"
    wanted = ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
              '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
              f'<dir>{fonts}</dir><cachedir>{work_dir() / "fontcache"}</cachedir></fontconfig>\n')
    if not conf.is_file() or conf.read_text(encoding="utf-8") != wanted:
        partial = conf.with_name(f"fonts.conf.{os.getpid()}")
        partial.write_text(wanted, encoding="utf-8")
        partial.replace(conf)
    return dict(os.environ, FONTCONFIG_FILE=str(conf))


def work_dir() -> Path:
    path = Path(tempfile.gettempdir()) / f"gongkai-office-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _kill_by_profile(profile: Path) -> None:
    """SIGKILL the process groups of the soffice started with ``profile`` (ours alone use it)."""
    marker = f"-env:UserInstallation=file://{profile}".encode()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0"):
                os.killpg(os.getpgid(int(entry)), signal.SIGKILL)
        except OSError:
            continue


_OWNED = re.compile(r"^(?:profile|bridge)-(\d+)")


def sweep_stale(folder: Path) -> None:
    """Remove profiles and sockets whose owner process is gone (a cold converter's profile,
    a bridge killed before it could clean up), and any soffice still running on them."""
    for entry in folder.iterdir():
        match = _OWNED.match(entry.name)
        if match is None:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            if entry.is_dir():
                _kill_by_profile(entry)  # a soffice whose bridge was killed outright
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        except OSError:
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class Converter:
    """The converter of one owner process (a parse server, or a process parsing in place)."""

    def __init__(self, timeout: float = TIMEOUT, warm: bool = True, name: str = "",
                 soffice: str | None = None) -> None:
        """``warm=False``: cold conversions only; ``name`` tells apart several converters of one
        process; ``soffice``: this program instead of the first of ``_SOFFICE_CANDIDATES``."""
        self.timeout = timeout
        self.owner = int(os.environ.get(_SERVER_PID) or os.getpid())
        self.soffice = find_soffice((soffice,) if soffice else _SOFFICE_CANDIDATES)
        self.python = find_uno_python() if warm and self.soffice else None
        # Derived from the owner alone: a parse child finds its server's bridge by it.
        self.socket = work_dir() / f"bridge-{self.owner}{name}.sock"
        self.profile = work_dir() / f"profile-{self.owner}{name}"
        if self.owner == os.getpid():
            sweep_stale(work_dir())
        self._bridge: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @property
    def warm(self) -> bool:
        return self.python is not None

    # -- the owner's side ---------------------------------------------------

    def start(self) -> None:
        """Start the bridge if this process owns it and it is not running (waits until ready)."""
        if not self.warm or self.owner != os.getpid():
            return
        with self._lock:
            if self._bridge is not None and self._bridge.poll() is None:
                return
            self._bridge = subprocess.Popen(
                [self.python, str(_BRIDGE), str(self.socket), str(self.profile), self.soffice, str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True, env=office_env())
            ready = self._bridge.stdout.readline()  # EOF if soffice could not start
            if ready.strip() != b"ready":
                self.stop()

    def stop(self) -> None:
        """Stop the bridge (and with it soffice)."""
        bridge, self._bridge = self._bridge, None
        if bridge is not None:
            bridge.terminate()
            try:
                bridge.wait(timeout=10)
            except subprocess.TimeoutExpired:  # stuck: soffice has its own session, kill it too
                _kill_group(bridge)
                _kill_by_profile(self.profile)
            bridge.stdout.close()

    # -- any process's side ---------------------------------------------------

    def to_docx(self, src: Path, out_dir: Path, suffix: str) -> Path:
        """Convert ``src`` to ``out_dir/converted.docx``; ``suffix`` (".doc", ".rtf") names the input
        for LibreOffice's type detection (.wps would suggest Microsoft Works)."""
        source = out_dir / f"input{suffix}"
        os.symlink(Path(src).resolve(), source)
        target = out_dir / "converted.docx"
        self.convert(source, target)
        return target

    def convert(self, source: Path, target: Path, filter_name: str = DOCX_FILTER) -> None:
        """Write ``source`` as ``target`` with LibreOffice's export filter ``filter_name``."""
        if self.soffice is None:
            raise ConverterMissing("LibreOffice (soffice) not found")
        if self.warm:
            self.start()
            self._ask_bridge(source, target, filter_name)
        else:
            self._cold(source, target, filter_name)
        if not target.is_file():
            raise ConverterFailed("LibreOffice wrote no file")

    def _ask_bridge(self, source: Path, target: Path, filter_name: str) -> None:
        request = {"src": str(source), "dst": str(target), "filter": filter_name, "timeout": self.timeout}
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout + 20)
                conn.connect(str(self.socket))
                conn.sendall(json.dumps(request).encode() + b"\n")
                answer = json.loads(conn.makefile("rb").readline() or b"null")
        except (OSError, ValueError) as exc:
            raise ConverterFailed(f"bridge: {type(exc).__name__}: {exc}"[:300]) from exc
        if not isinstance(answer, dict):
            raise ConverterFailed("bridge closed the connection")
        if not answer.get("ok"):
            raise ConverterFailed(f"{answer.get('code')}: {answer.get('detail')}"[:300])

    def _cold(self, source: Path, target: Path, filter_name: str) -> None:
        out_dir = Path(tempfile.mkdtemp(prefix="cold-", dir=work_dir()))
        try:
            with self._lock:  # one soffice per profile at a time
                self._run_cold(source, out_dir, target.suffix.lstrip(".") + ":" + filter_name)
            produced = out_dir / f"{source.stem}{target.suffix}"
            if produced.is_file():
                produced.replace(target)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)

    def _run_cold(self, source: Path, out_dir: Path, convert_to: str) -> None:
        proc = subprocess.Popen(
            [self.soffice, "--headless", "--norestore", "--nolockcheck",
             f"-env:UserInstallation=file://{self.profile}",
             "--convert-to", convert_to, "--outdir", str(out_dir), str(source)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, env=office_env())
        try:
            proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ConverterFailed(f"timeout: no answer in {self.timeout} s") from None
        _kill_group(proc)  # nothing of it may linger


_converter: Converter | None = None
_converter_lock = threading.Lock()


def converter() -> Converter:
    """This process's converter (in a parse child: the one its parse server owns)."""
    global _converter
    with _converter_lock:
        if _converter is None or (_converter.owner != os.getpid()
                                  and _converter.owner != int(os.environ.get(_SERVER_PID) or 0)):
            _converter = Converter()
        return _converter
