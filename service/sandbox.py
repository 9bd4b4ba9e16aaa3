"""Run a parser in a child process with resource limits, so a hostile file cannot take
the caller down.

Each parse runs in a child forked by a small parse server (``service/zygote.py``) that
has imported only the parser plugins: forking it costs ~1 ms where forking a worker that
holds a model costs ~15 ms. (multiprocessing's forkserver would do the same but
re-imports the caller's ``__main__`` in every child.) In the child: an address-space limit
(RLIMIT_AS) of ``memory_bytes`` on top of what the server maps, a CPU-seconds limit
(RLIMIT_CPU), no core dumps. The child pickles its answer into a pipe; the server waits
with a wall-clock deadline and kills the child when it passes. Whatever happens in the
child ends as a ParsedDocument or a coded ParseError: a Python exception of any type, a
signal, a timeout. Tracebacks go to the log, never to the user.
"""
from __future__ import annotations

import faulthandler
import logging
import os
import pickle
import select
import time
import resource
import signal
import traceback
from dataclasses import dataclass
from pathlib import Path

from service.parsers import (
    ParseContext,
    ParsedDocument,
    ParseError,
    ParserFailed,
    ResourceLimit,
    parse_error_classes,
)

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class Limits:
    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: int = 60
    wall_seconds: float = 120.0


def _mapped_bytes() -> int:
    """The address space this process maps now (VmSize), 0 if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
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


def parse_in_process(target: str, path: Path, context: ParseContext) -> ParsedDocument:
    """Instantiate the parser named by ``target`` and run it here, mapping every failure to a ParseError."""
    from service.registry import instantiate

    try:
        doc = instantiate(target).parse(path, context)
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


def _limit_this_process(limits: Limits) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.disable()  # a native crash is reported by the parent, not dumped to the terminal
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    address_space = _mapped_bytes() + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))


def _answer(target: str, path: str, context: ParseContext) -> tuple:
    try:
        return ("ok", parse_in_process(target, Path(path), context))
    except ParseError as exc:
        return ("error", exc.code, exc.detail, exc.params)
    except BaseException as exc:  # noqa: BLE001 - the child must always answer
        return ("error", ParserFailed.code, type(exc).__name__, {})


_SIGNAL_REASONS = {
    signal.SIGXCPU: ("resource_limit", "CPU 时间超过限制"),
    signal.SIGKILL: ("resource_limit", "内存或时间"),
    signal.SIGABRT: ("resource_limit", "内存"),
    signal.SIGSEGV: ("parser_failed", None),
    signal.SIGBUS: ("parser_failed", None),
}


def _died(status: int) -> tuple:
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    kind, what = _SIGNAL_REASONS.get(sig, ("parser_failed", None))
    detail = f"child exited with {'signal ' + str(sig) if sig else 'status ' + str(os.waitstatus_to_exitcode(status))}"
    return ("error", kind, detail, {"what": what} if kind == "resource_limit" else {})


def fork_and_parse(target: str, path: str, context: ParseContext, limits: Limits) -> tuple:
    """Fork a limited child that parses; never raises.

    Returns ``("ok", ParsedDocument)`` or ``("error", code, detail, params)``.
    """
    return pickle.loads(fork_and_parse_pickled(target, path, context, limits))


def fork_and_parse_pickled(target: str, path: str, context: ParseContext, limits: Limits) -> bytes:
    """``fork_and_parse``'s answer as the pickle the child wrote (the parse server forwards it as is)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        try:
            _limit_this_process(limits)
            try:
                data = pickle.dumps(_answer(target, path, context), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001 - e.g. no memory left to pickle the result
                data = pickle.dumps(("error", ResourceLimit.code, "result could not be returned", {"what": "内存"}))
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + limits.wall_seconds
    timed_out = False
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([pipe], [], [], remaining)[0]:
                timed_out = True
                break
            chunk = pipe.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return pickle.dumps(("error", ResourceLimit.code, f"wall time {limits.wall_seconds}s",
                             {"what": f"处理时间超过 {int(limits.wall_seconds)} 秒"}))
    data = b"".join(chunks)
    if data and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return data  # complete: the child exited normally after writing all of it
    return pickle.dumps(_died(status))


def _error(code: str, detail: str | None, params: dict) -> ParseError:
    cls = parse_error_classes().get(code, ParserFailed)
    return cls(detail, **params)


def run_isolated(target: str, path: Path, context: ParseContext, limits: Limits = Limits()) -> ParsedDocument:
    """Run parser ``target`` ("module:attr") on ``path`` in a limited child process.

    The child is forked by this process's parse server (``service.zygote``), a small
    process that has imported only the parsers, so a fork costs little however large the
    caller is (a worker holds a model). If the server cannot be used, this process forks.
    """
    from service import zygote

    request = (target, str(Path(path).resolve()), context, limits)
    message = zygote.call(request, timeout=limits.wall_seconds + 30)
    if message is None:
        message = fork_and_parse(*request)
    if message[0] == "ok":
        return message[1]
    _, code, detail, params = message
    if code in (ParserFailed.code, ResourceLimit.code):
        log.warning("parser %s on %s: %s %s", target, path, code, detail)
    raise _error(code, detail, params)
