"""Progress bars for CLI commands that run longer than a moment: one place decides when they
show and how they look.

A bar is tqdm on **stderr** (count, rate and ETA), so stdout — and ``--json`` output — is
byte for byte the same with or without it. When it shows:

- ``--progress`` forces it on (e.g. to follow a command whose stderr goes to a log file);
- ``--no-progress`` forces it off;
- neither: it shows when stderr is a terminal (tqdm's ``disable=None``), so pipes, cron
  jobs and log files get no carriage-return noise.

Underlying functions take a plain ``progress(done, total)`` callback (see :func:`updater`)
and never import tqdm themselves.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


def add_arguments(parser) -> None:
    """``--progress`` / ``--no-progress`` on a command's parser (``args.progress``: True, False or None)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--progress", dest="progress", action="store_const", const=True, default=None,
                       help="always show the progress bar on stderr (default: only when stderr is a terminal)")
    group.add_argument("--no-progress", dest="progress", action="store_const", const=False, default=None,
                       help="never show the progress bar")


def bar(args, *, total: int | None, desc: str, unit: str = "个", **kw: Any):
    """A tqdm bar on stderr, shown as ``args.progress`` says (None: when stderr is a terminal)."""
    from tqdm import tqdm

    forced = getattr(args, "progress", None)
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
                disable=None if forced is None else not forced, **kw)


def track(args, items: Iterable[T], *, total: int | None = None, desc: str, unit: str = "个") -> Iterator[T]:
    """Iterate over ``items`` with a bar."""
    with bar(args, total=len(items) if total is None and hasattr(items, "__len__") else total,
             desc=desc, unit=unit) as b:
        for item in items:
            yield item
            b.update(1)


def updater(b) -> Callable[[int, int | None], None]:
    """A ``progress(done, total)`` callback that moves bar ``b`` to ``done`` (of ``total``, when known)."""
    def update(done: int, total: int | None = None) -> None:
        if total is not None:
            b.total = max(total, done)
        if done > b.n:
            b.update(done - b.n)
    return update


def echo(text: str, file: TextIO | None = None) -> None:
    """Print a line (stdout by default) without tearing a bar that is showing; flush it."""
    from tqdm import tqdm

    out = file if file is not None else sys.stdout
    if getattr(tqdm, "_instances", None):
        tqdm.write(text, file=out)
    else:
        out.write(text + "\n")
    out.flush()
