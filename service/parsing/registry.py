"""The parser registry: built-ins and third-party plugins from one entry-point group.

Every parser, built-in or not, is an entry point in the ``gongkai.parsers`` group whose
object is a class (instantiated with no arguments) or an instance implementing
``service.parsers.Parser``. The registry is built when asked for (``load_registry()``),
never at import time. A plugin that fails to import, to instantiate, or to look like a
Parser is logged and skipped; start-up goes on.

Selection rule, for a media type sniffed from the file's bytes:
1. only parsers listing that media type are candidates;
2. the highest ``priority`` wins;
3. on a tie, a third-party parser beats a built-in one (so a deployment can replace a
   built-in by shipping a plugin with the same priority);
4. on a further tie, the lowest ``name`` wins, so the choice is deterministic.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from service.parsers import Parser, UnsupportedType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "gongkai.parsers"
BUILTIN_PACKAGE = "plugins"


@dataclass(frozen=True)
class Registered:
    parser: Parser
    #: "module:attr" — how a child process finds the same parser again.
    target: str
    builtin: bool

    @property
    def name(self) -> str:
        return self.parser.name


class Registry:
    def __init__(self, entries: Iterable[Registered]) -> None:
        self._entries = list(entries)

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def media_types(self) -> set[str]:
        return {m for e in self._entries for m in e.parser.media_types}

    def select(self, media_type: str) -> Registered:
        """The parser for ``media_type`` by the rule in this module's docstring."""
        candidates = [e for e in self._entries if media_type in e.parser.media_types]
        if not candidates:
            raise UnsupportedType(media_type=media_type)
        return min(candidates, key=lambda e: (-e.parser.priority, e.builtin, e.parser.name))


def _validate(obj: object) -> Parser:
    missing = [a for a in ("name", "version", "media_types", "priority", "parse") if not hasattr(obj, a)]
    if missing:
        raise TypeError(f"not a gongkai parser: missing {', '.join(missing)}")
    if not callable(obj.parse):  # type: ignore[attr-defined]
        raise TypeError("parse is not callable")
    if not isinstance(obj.priority, int):  # type: ignore[attr-defined]
        raise TypeError("priority must be an int")
    return obj  # type: ignore[return-value]


def instantiate(target: str) -> Parser:
    """Load ``module:attr`` and return a parser instance (used by the sandbox child too)."""
    obj = EntryPoint(name="", value=target, group=ENTRY_POINT_GROUP).load()
    return _validate(obj() if isinstance(obj, type) else obj)


def load_registry(eps: Iterable[EntryPoint] | None = None) -> Registry:
    """Build the registry from entry points; broken plugins are logged and skipped."""
    eps = entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps
    entries: list[Registered] = []
    for ep in eps:
        try:
            parser = instantiate(ep.value)
        except Exception:  # a third party's bug must not stop start-up
            log.exception("parser plugin %r (%s) failed to load; skipped", ep.name, ep.value)
            continue
        builtin = ep.value.split(":", 1)[0].split(".", 1)[0] == BUILTIN_PACKAGE
        entries.append(Registered(parser=parser, target=ep.value, builtin=builtin))
        log.debug("parser plugin %s %s loaded from %s", parser.name, parser.version, ep.value)
    return Registry(entries)


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The registry of the installed entry points, built once per process."""
    return load_registry()
