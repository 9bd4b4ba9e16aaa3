"""The ``gongkai`` command. Each command group lives in ``service/commands/<name>.py``
and exposes ``register(subparsers)``; the chosen command's ``func(args) -> int`` runs."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMAND_MODULES = (
    "service.commands.parse",
    "service.commands.admin",
    "service.commands.serve",
    "service.commands.classify",
    "service.commands.archive",
    "service.commands.reclassify",
    "service.commands.report",
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
    from service.errors import GongkaiError

    try:
        return int(args.func(args) or 0)
    except GongkaiError as exc:  # a user-facing error: its message, no traceback
        print(f"错误（{exc.code}）：{exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
