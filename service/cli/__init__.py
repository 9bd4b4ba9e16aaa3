"""The ``gongkai`` command line (entry point ``service.cli:main``; ``python -m service.cli``).

Each command group lives in ``service/cli/<name>.py`` and exposes ``register(subparsers)``; the
chosen command's ``func(args) -> int`` runs. Groups: ``parse``, ``admin`` (db, audit, check,
departments, users, tokens, worker), ``serve`` (serve, web), ``classify`` (classify, evaluate, train,
train-data, export-training, models), ``import_files`` (import), ``reclassify``, ``report``;
``progress`` draws their progress bars. Commands import what they need when they run, so
``gongkai --help`` does not load the classifier. The command line never imports the web
application but for its factory (``serve``, ``web``).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

__all__ = ["build_parser", "main"]

COMMAND_MODULES = (
    "service.cli.parse",
    "service.cli.admin",
    "service.cli.serve",
    "service.cli.classify",
    "service.cli.import_files",
    "service.cli.reclassify",
    "service.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gongkai", description="政府信息公开 document intake and classification")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from service.errors import GongkaiError

    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()          # a closed pipe shows here, not at interpreter exit
        return code
    except GongkaiError as exc:  # a user-facing error: its message, no traceback
        print(f"错误（{exc.code}）：{exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # piped into `head` & co., which stopped reading: not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
        return 141
    except (OperationalError, ProgrammingError) as exc:
        # A command run before the schema exists (a fresh data directory, or code newer
        # than the database) or with the database down says so instead of showing SQL.
        problem = _database_problem(exc)
        if problem is None:
            raise
        print(f"错误（{problem.code}）：{problem.message}", file=sys.stderr)
        return 2


def _database_problem(exc: Exception):
    from service import config
    from service.db import make_engine
    from service.migrate import DatabaseUnavailable, schema_problem

    url = config.database_url(config.load())
    try:
        engine = make_engine(url)
        try:
            return schema_problem(engine)
        finally:
            engine.dispose()
    except Exception:   # the database cannot even be asked
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        return DatabaseUnavailable(where=make_url_safe(url), reason=reason)


def make_url_safe(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "（无法解析的地址）"
