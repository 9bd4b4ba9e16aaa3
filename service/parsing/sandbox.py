"""Run a parser in a child process with resource limits, so a hostile file cannot take
the caller down.

Parses run in a child forked by a small parse server (``service/parsing/parse_server.py``) that has
imported only the parser plugins: forking it costs ~1 ms where forking a worker that
holds a model costs ~15 ms. (multiprocessing's forkserver would do the same but
re-imports the caller's ``__main__`` in every child.) In the child: an address-space limit
(RLIMIT_AS) of ``memory_bytes`` on top of what the server maps (``ocr_memory_bytes``
while OCR runs: the engine alone maps ~1.1 GB), a CPU-seconds limit
(RLIMIT_CPU) of ``cpu_seconds`` *per parse*, no core dumps. The child pickles each answer
into a pipe; the server waits with a wall-clock deadline and kills the child when it
passes. Whatever happens in the child ends as a ParsedDocument or a coded ParseError: a
Python exception of any type, a signal, a timeout. Tracebacks go to the log, never to the
user.

A child serves up to ``Limits.reuse`` parses (a fork, its copy-on-write faults and its
exit cost ~3 ms, more than parsing a typical 3-page document). It is replaced — the next
parse gets a fresh child — after any parse that did not end in a document or an ordinary
coded refusal (a crash, a limit, a timeout, any Python exception: anything that may leave
the process in a bad state), when its resident memory has grown by more than
``REUSE_GROWTH_BYTES`` since it started, and after ``reuse`` parses. ``reuse=1`` gives
every file a fresh process.
"""
from __future__ import annotations

import contextlib
import dataclasses
import faulthandler
import logging
import os
import pickle
import resource
import select
import signal
import struct
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from service.parsers import (
    ParseContext,
    ParsedDocument,
    ParseError,
    ParserFailed,
    Rendition,
    ResourceLimit,
)
from service.parsing.registry import instantiate

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class Limits:
    memory_bytes: int = 1024 * 1024 * 1024
    #: While OCR runs: the hard address-space limit, to which the OCR engine raises its soft
    #: one (``plugins/ocr.py``); every parse starts again at ``memory_bytes``.
    ocr_memory_bytes: int = 3 * 1024 * 1024 * 1024
    cpu_seconds: int = 60
    wall_seconds: float = 120.0
    reuse: int = 100  #: parses one child may serve (see the module docstring)


def _status_bytes(field: str) -> int:
    """A size from /proc/self/status (``VmSize``: mapped, ``VmRSS``: resident), 0 if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def check_output_limits(doc: ParsedDocument, context: ParseContext) -> None:
    """Pages and text size are limits on what a parser may hand back."""
    limits = context.limits
    if doc.page_count > limits.max_pages:
        raise ResourceLimit(f"{doc.page_count} pages", what=f"页数超过 {limits.max_pages} 页")
    size = sum(len(b.text.encode("utf-8")) for b in doc.paragraphs)
    size += sum(len(c.encode("utf-8")) for t in doc.tables for row in t.rows for c in row)
    size += sum(len(h.text.encode("utf-8")) for h in doc.hidden)
    if size > limits.max_text_bytes:
        raise ResourceLimit(f"{size} bytes of text", what=f"文字量超过 {limits.max_text_bytes // (1024 * 1024)} MB")


def parse_in_process(target: str, path: Path, context: ParseContext) -> ParsedDocument | Rendition:
    """Instantiate the parser named by ``target`` and run it here, mapping every failure to a ParseError."""

    try:
        doc = instantiate(target).parse(path, context)
        if isinstance(doc, Rendition):   # a renderer's answer (service.rendition): a file, not text
            return doc
        if not isinstance(doc, ParsedDocument):
            raise ParserFailed(f"{target} returned {type(doc).__name__}")
        check_output_limits(doc, context)
        return doc
    except ParseError:
        raise
    except MemoryError as exc:
        raise ResourceLimit("MemoryError", what="内存") from exc
    except RecursionError as exc:
        raise ResourceLimit("RecursionError", what="嵌套层数") from exc
    except Exception as exc:  # any library bug, bare TypeErrors included
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise ParserFailed(f"{type(exc).__name__}: {exc} at {frame.filename}:{frame.lineno}"[:500]) from exc


def _limit_this_process(limits: Limits) -> int:
    """Signals, core dumps and the address-space limit; returns the soft address-space limit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.disable()  # a native crash is reported by the parent, not dumped to the terminal
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    mapped = _status_bytes("VmSize")
    address_space = mapped + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, mapped + max(limits.memory_bytes, limits.ocr_memory_bytes)))
    return address_space


def _answer(target: str, path: str, context: ParseContext) -> tuple:
    try:
        return ("ok", parse_in_process(target, Path(path), context))
    except ParseError as exc:
        return ("error", exc.code, exc.detail, exc.params)
    except BaseException as exc:  # noqa: BLE001 - the child must always answer
        return ("error", ParserFailed.code, type(exc).__name__, {})


_SIGNAL_REASONS: dict[int, tuple[str, str | None]] = {
    signal.SIGXCPU: ("resource_limit", "CPU 时间超过限制"),
    signal.SIGKILL: ("resource_limit", "内存或时间"),
    signal.SIGABRT: ("resource_limit", "内存"),
    signal.SIGSEGV: ("parser_failed", None),
    signal.SIGBUS: ("parser_failed", None),
}


def _died(status: int) -> tuple:
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    reason = _SIGNAL_REASONS.get(sig) if sig is not None else None
    kind, what = reason or ("parser_failed", None)
    detail = f"child exited with {'signal ' + str(sig) if sig else 'status ' + str(os.waitstatus_to_exitcode(status))}"
    return ("error", kind, detail, {"what": what} if kind == "resource_limit" else {})


def _cpu_seconds_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


#: A reused child whose resident memory grew by more than this is replaced.
REUSE_GROWTH_BYTES = 256 * 1024 * 1024
#: Codes after which a child is not trusted with another file.
_REPLACE_AFTER = frozenset({ParserFailed.code, ResourceLimit.code})
_FRAME = struct.Struct(">Q")
_KEEP, _LAST = b"K", b"X"


def _read_fd(fd: int, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _read_frame(fd: int) -> bytes | None:
    header = _read_fd(fd, _FRAME.size)
    return None if header is None else _read_fd(fd, _FRAME.unpack(header)[0])


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _child_loop(requests: int, answers: int, limits: Limits) -> None:
    """In the child: answer parse requests until the pipe closes or the child is no longer trusted."""
    address_space = _limit_this_process(limits)
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    started_rss, served = _status_bytes("VmRSS"), 0
    while True:
        frame = _read_frame(requests)
        if frame is None:
            return  # the server closed the pipe
        target, path, context = pickle.loads(frame)
        soft = int(_cpu_seconds_used()) + limits.cpu_seconds  # the CPU seconds of this parse
        if cpu_hard != resource.RLIM_INFINITY:
            soft = min(soft, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, resource.getrlimit(resource.RLIMIT_AS)[1]))
        answer = _answer(target, path, context)
        served += 1
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - e.g. no memory left to pickle the result
            answer = ("error", ResourceLimit.code, "result could not be returned", {"what": "内存"})
            data = pickle.dumps(answer)
        last = ((answer[0] != "ok" and answer[1] in _REPLACE_AFTER) or served >= limits.reuse
                or _status_bytes("VmRSS") - started_rss > REUSE_GROWTH_BYTES)
        _write_frame(answers, (_LAST if last else _KEEP) + data)
        if last:
            return


class ParseChild:
    """A forked child that parses files one request at a time, within ``limits``.

    ``parse_pickled`` never raises: a crash, a signal or the wall deadline becomes a
    pickled coded error, and the child is then gone (``alive`` turns False).
    """

    def __init__(self, limits: Limits, close_in_child: tuple[int, ...] = ()) -> None:
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            try:
                for fd in (req_w, ans_r, *close_in_child):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                _child_loop(req_r, ans_w, limits)
            finally:
                os._exit(0)
        os.close(req_r)
        os.close(ans_w)
        self.pid, self.limits = pid, limits
        self._requests, self._answers = req_w, ans_r
        self.alive = True

    def parse_pickled(self, target: str, path: str, context: ParseContext) -> bytes:
        try:
            _write_frame(self._requests, pickle.dumps((target, path, context), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # the child is gone (killed between parses)
            return pickle.dumps(self._reap())
        frame = self._read_before(time.monotonic() + self.limits.wall_seconds)
        if frame is None:  # the deadline passed
            os.kill(self.pid, signal.SIGKILL)
            self._reap()
            return pickle.dumps(("error", ResourceLimit.code, f"wall time {self.limits.wall_seconds}s",
                                 {"what": f"处理时间超过 {int(self.limits.wall_seconds)} 秒"}))
        if not frame:  # it died before a complete answer
            return pickle.dumps(self._reap())
        if frame[:1] == _LAST:
            self._reap()
        return frame[1:]

    def _read_before(self, deadline: float) -> bytes | None:
        """One whole answer frame; b"" if the pipe closed first; None at the deadline."""
        buf = bytearray()
        need = _FRAME.size
        while len(buf) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._answers], [], [], remaining)[0]:
                return None
            chunk = os.read(self._answers, min(need - len(buf), 1 << 20))
            if not chunk:
                return b""
            buf += chunk
            if need == _FRAME.size and len(buf) >= _FRAME.size:
                need += _FRAME.unpack(bytes(buf[:_FRAME.size]))[0]
        return bytes(buf[_FRAME.size:])  # never empty: the child's frame starts with its flag byte

    def _reap(self) -> tuple:
        """Close the pipes and wait for the child; the coded error describing how it ended."""
        self.alive = False
        for fd in (self._requests, self._answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        _, status = os.waitpid(self.pid, 0)
        return _died(status)

    def close(self) -> None:
        if self.alive:
            self._reap()  # closing its request pipe ends the child's loop


def fork_and_parse(target: str, path: str, context: ParseContext, limits: Limits) -> tuple:
    """Parse in a one-use limited child; never raises (the fallback when no parse server answers).

    Returns ``("ok", ParsedDocument)`` or ``("error", code, detail, params)``.
    """
    child = ParseChild(dataclasses.replace(limits, reuse=1))
    try:
        return pickle.loads(child.parse_pickled(target, path, context))
    finally:
        child.close()
