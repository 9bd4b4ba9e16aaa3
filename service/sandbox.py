"""Run a parser in a child process with resource limits, so a hostile file cannot take
the caller down.

The child is a fork of the caller (which has imported the plugins when it built the
registry), so a parse costs a fork, not an interpreter start. A forkserver would start
smaller children but re-imports the caller's ``__main__`` in every child; a plain fork
does not. In the child: an address-space limit (RLIMIT_AS) of ``memory_bytes`` on top of
what the process already maps at fork time, a CPU-seconds limit (RLIMIT_CPU), no core
dumps. In the parent: a wall-clock deadline, after which the child is killed. Whatever happens in the
child ends as a ParsedDocument or a coded ParseError: a Python exception of any type, a
signal, a timeout. Tracebacks go to the log, never to the user.
"""
from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import resource
import signal
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
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
        log.warning("parser %s crashed on %s:\n%s", target, path, traceback.format_exc())
        raise ParserFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc


def _child_main(conn: Connection, target: str, path: str, context: ParseContext, limits: Limits) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.disable()  # a native crash is reported by the parent, not dumped to the terminal
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    address_space = _mapped_bytes() + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    try:
        message = ("ok", parse_in_process(target, Path(path), context))
    except ParseError as exc:
        message = ("error", exc.code, exc.detail, exc.params)
    except BaseException as exc:  # noqa: BLE001 - the child must always answer
        message = ("error", ParserFailed.code, type(exc).__name__, {})
    try:
        conn.send(message)
    except BaseException:  # noqa: BLE001 - e.g. a result too large to pickle under the limit
        conn.send(("error", ResourceLimit.code, "result could not be returned", {"what": "内存"}))
    finally:
        conn.close()


_SIGNAL_REASONS = {
    signal.SIGXCPU: ("resource_limit", "CPU 时间超过限制"),
    signal.SIGKILL: ("resource_limit", "内存或时间"),
    signal.SIGABRT: ("resource_limit", "内存"),
    signal.SIGSEGV: ("parser_failed", None),
    signal.SIGBUS: ("parser_failed", None),
}


def _error(code: str, detail: str | None, params: dict) -> ParseError:
    cls = parse_error_classes().get(code, ParserFailed)
    return cls(detail, **params)


def run_isolated(target: str, path: Path, context: ParseContext, limits: Limits = Limits()) -> ParsedDocument:
    """Run parser ``target`` ("module:attr") on ``path`` in a limited child process."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(sender, target, str(path), context, limits), daemon=True)
    proc.start()
    sender.close()
    message = None
    try:
        if receiver.poll(limits.wall_seconds):
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                message = None  # the child died before answering
        else:
            proc.kill()
            proc.join(5)
            raise ResourceLimit(f"wall time {limits.wall_seconds}s", what=f"处理时间超过 {int(limits.wall_seconds)} 秒")
    finally:
        receiver.close()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
    if message is None:
        code = proc.exitcode
        sig = -code if code is not None and code < 0 else None
        kind, what = _SIGNAL_REASONS.get(sig, ("parser_failed", None))
        detail = f"child exited with {'signal ' + str(sig) if sig else 'status ' + str(code)}"
        log.warning("parser %s on %s: %s", target, path, detail)
        if kind == "resource_limit":
            raise ResourceLimit(detail, what=what)
        raise ParserFailed(detail)
    if message[0] == "ok":
        return message[1]
    _, code, detail, params = message
    raise _error(code, detail, params)
