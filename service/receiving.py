"""Receiving an upload: the original is stored durably before the row that names it.

Order matters: stream to storage (hashed, fsynced, renamed) → insert the document row →
commit. If the process dies between the two, the original is an orphan (reported by
``gongkai check``), never a row pointing at nothing. The same bytes from the same
department return the existing document; a failed attempt leaves nothing that blocks a
retry.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service import audit
from service.db import Document, transaction
from service.storage import Storage

MAX_FILENAME = 255
#: Bidirectional formatting characters (LRM/RLM, embeddings and overrides U+202A–U+202E,
#: isolates U+2066–U+2069, the Arabic letter mark): U+202E shows "报告\u202excod.exe" as
#: "报告exe.docx". A file name needs none of them.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Received:
    document_id: int
    created: bool
    status: str


def without_bidi(text: str) -> str:
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def clean_filename(name: str) -> str:
    """The base name a browser or system sent, without directories, control or bidi characters."""
    base = PurePath(name.replace("\\", "/")).name
    base = without_bidi("".join(ch for ch in base if ch >= " " and ch != "\x7f")).strip()
    return (base or "未命名文件")[-MAX_FILENAME:]


def display_filename(name: str | None) -> str:
    """A stored file name as pages, the API and downloads show it: names stored before
    ``clean_filename`` removed bidi characters lose them here."""
    return without_bidi(name or "").strip() or "未命名文件"


_DOCS = Document.__table__
# Built once; Core statements, not the ORM unit of work (an archive import receives 10,000 files).
_FIND = select(_DOCS.c.id, _DOCS.c.status).where(_DOCS.c.department_id == bindparam("department_id"),
                                                 _DOCS.c.sha256 == bindparam("sha256"))
_INSERT = insert(_DOCS)


def _existing(session: Session, department_id: int, sha256: str) -> Received | None:
    row = session.execute(_FIND, {"department_id": department_id, "sha256": sha256}).one_or_none()
    return Received(row.id, False, row.status) if row is not None else None


def receive(sessions: sessionmaker[Session], storage: Storage, *, department_id: int, filename: str,
            stream: BinaryIO, uploaded_by: str, max_bytes: int | None = None) -> Received:
    """Store the original, then create (or find) its document row. Idempotent per department."""
    stored = storage.put(stream, max_bytes=max_bytes)
    name = clean_filename(filename)
    try:
        with transaction(sessions) as s:
            found = _existing(s, department_id, stored.sha256)
            if found is not None:
                return found
            document_id = s.execute(_INSERT, {
                "department_id": department_id, "filename": name, "sha256": stored.sha256, "size": stored.size,
                "uploaded_by": uploaded_by, "status": "received"}).inserted_primary_key[0]
            audit.append(s, uploaded_by, "document.received", document_id=document_id, filename=name,
                         sha256=stored.sha256, size=stored.size)
            return Received(document_id, True, "received")
    except IntegrityError:
        # Another request stored the same bytes for the same department at the same moment.
        with transaction(sessions) as s:
            found = _existing(s, department_id, stored.sha256)
            if found is None:
                raise
            return found
