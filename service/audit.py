"""The append-only, hash-chained audit log.

Each entry's hash is ``sha256(prev_hash + canonical JSON of the entry)``, so changing,
removing or reordering any entry breaks every hash after it. Appending locks the single
``audit_head`` row (SELECT … FOR UPDATE on PostgreSQL; SQLite serializes writers), so two
writers can never chain onto the same predecessor. An entry is written in the same
transaction as the change it records: both commit or neither does.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64


def _utc_text(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def canonical(seq: int, at: datetime, actor: str, action: str, document_id: int | None, detail: dict[str, Any]) -> str:
    return json.dumps({"seq": seq, "at": _utc_text(at), "actor": actor, "action": action,
                       "document_id": document_id, "detail": detail},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(session: Session, actor: str, action: str, document_id: int | None = None,
           **detail: Any) -> AuditEntry:
    """Append one entry inside the caller's transaction."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    seq = head.last_seq + 1
    at = utcnow()
    detail = json.loads(json.dumps(detail, ensure_ascii=False, default=str))  # what the JSON column will return
    entry_hash = chain_hash(head.last_hash, canonical(seq, at, actor, action, document_id, detail))
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, document_id=document_id, detail=detail,
                       prev_hash=head.last_hash, hash=entry_hash)
    session.add(entry)
    head.last_seq, head.last_hash = seq, entry_hash
    session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(session: Session, batch: int = 5000,
           progress: Callable[[int, int], None] | None = None) -> Verification:
    """Recompute the whole chain; report the first entry that does not hold.

    ``progress``, when given, receives ``(entries checked, entries in the log)`` after each
    batch of entries."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    if progress is not None:
        # A column query, not session.get: the head object read at the end must be fresh.
        expected_total = session.execute(select(AuditHead.last_seq).where(AuditHead.id == 1)).scalar() or 0
        progress(0, expected_total)
    while True:
        # Plain rows, not ORM objects: the session's identity map would keep every entry read.
        rows = session.execute(select(AuditEntry.seq, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                                      AuditEntry.document_id, AuditEntry.detail, AuditEntry.prev_hash,
                                      AuditEntry.hash).where(AuditEntry.seq > last_seq)
                               .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return Verification(False, count, e.seq, f"entry {expected_seq} is missing")
            if e.prev_hash != prev_hash:
                return Verification(False, count, e.seq, "previous-hash link broken")
            if chain_hash(prev_hash, canonical(e.seq, e.at, e.actor, e.action, e.document_id, e.detail)) != e.hash:
                return Verification(False, count, e.seq, "entry content does not match its hash")
            prev_hash, expected_seq, count, last_seq = e.hash, e.seq + 1, count + 1, e.seq
        if progress is not None:
            progress(count, max(expected_total, count))
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != count or head.last_hash != prev_hash):
        return Verification(False, count, head.last_seq, "entries after the last one were removed")
    return Verification(True, count)
