"""Parsing: from a file's bytes to a ``ParsedDocument``, whatever the plugin does.

- ``registry``: the format plugins, built-ins and third parties, from the ``gongkai.parsers``
  entry-point group (``default_registry()`` once per process);
- ``sniff``: a file's type from its bytes (``ole2`` tells OLE2 kinds apart by their streams);
- ``sandbox``: a limited child process that runs one parser (memory, CPU, time, output size);
- ``parse_server``: a small process that forks those children, and ``run_isolated``, what
  callers use to parse a file in one.

Plugins implement ``service.parsers`` (the contract); nothing here imports the web, the
queue or the database. (``run_isolated`` is imported from ``parse_server`` itself: that module
also runs as ``python -m``, and a package that imported it would load it twice.)
"""
from service.parsing.registry import Registry, default_registry, load_registry
from service.parsing.sandbox import Limits, parse_in_process
from service.parsing.sniff import Sniffed

__all__ = ["Limits", "Registry", "Sniffed", "default_registry", "load_registry", "parse_in_process"]
