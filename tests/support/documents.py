"""Rows for a test's world: documents in a given state without a file behind them (for tests of
who sees what, and of what pages and the API show)."""
from __future__ import annotations

from service.db import Document


def add_doc(s, dept, status: str, n: int | None = None, **fields) -> int:
    """A document of ``dept`` in ``status``; returns its id. ``n`` names it (``<n>.pdf``, title
    ``<dept>文件<n>``); without ``n`` it is named after its state (``<status>.pdf``, ``<dept><status>``).
    The sha256 is made up from the name, so two documents of one test need different names."""
    name = str(n) if n is not None else status
    key = name if n is not None else f"{len(fields)}{status}"
    title = fields.pop("title", f"{dept.name}文件{n}" if n is not None else f"{dept.name}{status}")
    doc = Document(department_id=dept.id, filename=f"{name}.pdf", sha256=key.ljust(64, "0")[:64], size=1,
                   status=status, title=title, **fields)
    s.add(doc)
    s.flush()
    return doc.id
