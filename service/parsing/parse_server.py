"""The parse server: a small process that forks the limited children that parse.

Started on first use by each process that parses (``call``), as
``python -m service.parsing.parse_server``. It imports only the parser plugins, reads requests from
its stdin and writes answers to its stdout, each framed as an 8-byte length and a
pickle (parent and server are the same program and user). Stray output from libraries
goes to stderr, never into the answers. It exits when its parent closes the pipe, so it
never outlives the process it serves.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import IO, Any

from service.parsers import (
    ParseContext,
    ParsedDocument,
    ParseError,
    ParserFailed,
    Rendition,
    RenditionContext,
    ResourceLimit,
    parse_error_classes,
)
from service.parsing.registry import default_registry, instantiate
from service.parsing.sandbox import Limits, ParseChild, fork_and_parse, parse_in_process

log = logging.getLogger(__name__)
_HEADER = struct.Struct(">Q")
#: Imported by the server before the first fork, so children do not each import them.
PRELOAD = ("pdfplumber", "pypdfium2", "docx", "lxml.etree", "charset_normalizer", "service.analysis.cleaning")


def write_message(out: IO[bytes], obj: Any) -> None:
    write_pickled(out, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def write_pickled(out: IO[bytes], data: bytes) -> None:
    out.write(_HEADER.pack(len(data)))
    out.write(data)
    out.flush()


#: Largest message accepted; a longer length means the stream is out of step.
MAX_MESSAGE = 1 << 30


def read_exactly(stream: IO[bytes], n: int) -> bytes | None:
    """``n`` bytes, read in chunks (a bogus length never allocates a huge buffer up front)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_message(stream: IO[bytes]) -> Any:
    header = read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    length = _HEADER.unpack(header)[0]
    if length > MAX_MESSAGE:
        raise pickle.UnpicklingError(f"message length {length} out of range")
    data = read_exactly(stream, length)
    return None if data is None else pickle.loads(data)


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------

def _warm_up() -> None:
    """Parse a tiny CJK PDF once, so PDFium's font lookup is done here, not in every child."""
    try:
        with resources.as_file(resources.files("service").joinpath("data", "warmup.pdf")) as path:
            parse_in_process("plugins.pdf:PdfParser", path, ParseContext(media_type="application/pdf"))
    except Exception:  # noqa: BLE001 - a warm-up, nothing depends on it
        pass


#: Tells a parse child which process is its server (``plugins/converter.py`` finds the
#: server's warm converter by it).
SERVER_PID_VARIABLE = "GONGKAI_PARSE_SERVER_PID"


def _prepare(target: str, prepared: dict) -> None:
    """Run the plugin's optional ``prepare()`` here, outside the child's limits (see
    ``service.parsers``): long-lived helpers belong to the server, not to a child."""
    try:
        if target not in prepared:
            prepared[target] = getattr(instantiate(target), "prepare", None)
        if prepared[target] is not None:
            prepared[target]()
    except Exception:  # noqa: BLE001 - the child will report what is missing
        log.exception("prepare() of %s failed", target)


def serve() -> None:
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the protocol
    logging.lastResort = None  # errors travel back to the caller as coded answers and are logged there
    logging.getLogger().addHandler(logging.NullHandler())
    os.environ[SERVER_PID_VARIABLE] = str(os.getpid())
    default_registry()  # import every plugin once, before the first fork
    for module in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(module)
    _warm_up()
    gc.freeze()  # what the server built stays out of children's collections: fewer copy-on-write faults
    child: ParseChild | None = None
    prepared: dict = {}
    own_fds = (proto_in.fileno(), proto_out.fileno())
    while True:
        request = read_message(proto_in)
        if request is None:
            if child is not None:
                child.close()
            return
        target, path, context, limits = request
        _prepare(target, prepared)
        if child is not None and (not child.alive or child.limits != limits):
            child.close()
            child = None
        if child is None:
            child = ParseChild(limits, close_in_child=own_fds)
        write_pickled(proto_out, child.parse_pickled(target, path, context))


# ---------------------------------------------------------------------------
# The client side: one server per process, started on first use
# ---------------------------------------------------------------------------

class _Client:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        # The server imports what this process can import (tests and plugins on sys.path too).
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc = subprocess.Popen([sys.executable, "-m", "service.parsing.parse_server"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, close_fds=True, env=env)
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both are pipes
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.proc.poll() is None

    def call(self, request: tuple, timeout: float) -> Any:
        with self.lock:
            write_message(self.stdin, request)
            reply = read_message(self.stdout)
            if reply is None:
                raise EOFError("parse server exited")
            return reply

    def close(self) -> None:
        try:
            self.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.proc.kill()


_client: _Client | None = None
_client_lock = threading.Lock()


def call(request: tuple, timeout: float) -> Any:
    """Send one parse request to this process's server; None if no server could answer."""
    global _client
    with _client_lock:
        if _client is None or not _client.alive():
            try:
                _client = _Client()
            except OSError:
                log.exception("could not start the parse server; parsing in a direct fork")
                return None
        client = _client
    try:
        return client.call(request, timeout)
    except (EOFError, OSError, pickle.UnpicklingError):
        log.exception("parse server failed; parsing in a direct fork")
        with _client_lock:
            if _client is client:
                _client = None
        return None


if __name__ == "__main__":
    serve()


# ---------------------------------------------------------------------------
# What callers use
# ---------------------------------------------------------------------------

def _error(code: str, detail: str | None, params: dict) -> ParseError:
    cls = parse_error_classes().get(code, ParserFailed)
    return cls(detail, **params)


#: The limits of a parse whose caller gives none (``Limits`` is frozen, so one instance serves all).
DEFAULT_LIMITS = Limits()


def run_isolated(target: str, path: Path, context: ParseContext, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    """Run parser ``target`` ("module:attr") on ``path`` in a limited child process.

    The child is forked by this process's parse server (this module's ``serve``), a small
    process that has imported only the parsers, so a fork costs little however large the
    caller is (a worker holds a model). If the server cannot be used, this process forks.
    """
    result = _run(target, path, context, limits)
    if not isinstance(result, ParsedDocument):
        raise ParserFailed(f"{target} returned {type(result).__name__}")
    return result


def render_isolated(target: str, path: Path, context: RenditionContext,
                    limits: Limits = DEFAULT_LIMITS) -> Rendition:
    """Run renderer ``target`` on ``path`` in a limited child process, as ``run_isolated`` runs parsers."""
    result = _run(target, path, context, limits)
    if not isinstance(result, Rendition):
        raise ParserFailed(f"{target} returned {type(result).__name__}")
    return result


def _run(target: str, path: Path, context: ParseContext, limits: Limits) -> ParsedDocument | Rendition:
    request = (target, str(Path(path).resolve()), context, limits)
    message = call(request, timeout=limits.wall_seconds + 30)
    if message is None:
        message = fork_and_parse(*request)
    if message[0] == "ok":
        return message[1]
    _, code, detail, params = message
    if code in (ParserFailed.code, ResourceLimit.code):
        log.warning("parser %s on %s: %s %s", target, path, code, detail)
    raise _error(code, detail, params)
