"""Signed-in browsers, kept on the server so that signing out really ends them.

The session cookie (signed by Flask) carries a random session id; the database keeps the
id's sha256 with its user, when it began, when it was last used and when and why it
ended. A request is signed in only while its row is open, so a copied cookie stops
working at logout, and the limits are the server's, not the cookie's:

- ``session_idle_minutes`` without an action (等保 connection timeout; a page's background
  refresh is no action);
- ``ABSOLUTE_LIFETIME`` after sign-in, however busy the session (it does not slide);
- a new password or deactivation ends all of the account's sessions.

Activity is recorded at most once every ``SEEN_EVERY`` seconds (a write per minute per
person, not per request).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db import BrowserSession, utcnow
from service.localtime import as_utc

ABSOLUTE_LIFETIME = timedelta(hours=12)
SEEN_EVERY = timedelta(seconds=60)
#: Ended sessions are kept this long (who was signed in when), then deleted at a sign-in.
ENDED_KEPT = timedelta(days=30)


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start(session: Session, user_id: int, ip: str | None = None) -> str:
    """Open a session for ``user_id``; return its id, for the cookie (the only place it is kept)."""
    now = utcnow()
    session.execute(delete(BrowserSession).where(BrowserSession.ended_at < now - ENDED_KEPT)
                    .execution_options(synchronize_session=False))
    sid = secrets.token_urlsafe(32)
    session.add(BrowserSession(sid_sha256=_digest(sid), user_id=user_id, created_at=now, last_seen_at=now,
                               ip=(ip or "")[:64] or None))
    session.flush()
    return sid


def end(session: Session, sid: str, reason: str) -> int | None:
    """End the session ``sid`` (if open); return its user's id, or None."""
    row = session.execute(select(BrowserSession).where(BrowserSession.sid_sha256 == _digest(sid))
                          .with_for_update()).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None
    row.ended_at, row.end_reason = utcnow(), reason
    return row.user_id


def end_all(session: Session, user_id: int, reason: str) -> int:
    """End every open session of ``user_id``; return how many."""
    return session.execute(update(BrowserSession)
                           .where(BrowserSession.user_id == user_id, BrowserSession.ended_at.is_(None))
                           .values(ended_at=utcnow(), end_reason=reason)
                           .execution_options(synchronize_session=False)).rowcount or 0


@dataclass(frozen=True)
class Check:
    """What a request's session id is worth now."""

    state: str                    # "open", "ended", "idle", "expired", "unknown"
    row_id: int | None = None
    user_id: int | None = None
    touch: bool = False           # record this request as activity


def check(session: Session, sid: str, idle_limit: timedelta | None, now: datetime | None = None) -> Check:
    """Whether ``sid`` is open now; an idle or too old one is reported (``close`` ends it)."""
    now = now or utcnow()
    row = session.execute(select(BrowserSession).where(BrowserSession.sid_sha256 == _digest(sid))
                          ).scalar_one_or_none()
    if row is None:
        return Check("unknown")
    if row.ended_at is not None:
        return Check("ended", row.id, row.user_id)
    if now - as_utc(row.created_at) > ABSOLUTE_LIFETIME:
        return Check("expired", row.id, row.user_id)
    idle = now - as_utc(row.last_seen_at)
    if idle_limit and idle > idle_limit:
        return Check("idle", row.id, row.user_id)
    return Check("open", row.id, row.user_id, touch=idle >= SEEN_EVERY)


def close(session: Session, row_id: int, reason: str) -> None:
    session.execute(update(BrowserSession).where(BrowserSession.id == row_id, BrowserSession.ended_at.is_(None))
                    .values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False))


def touch(session: Session, row_id: int) -> None:
    session.execute(update(BrowserSession).where(BrowserSession.id == row_id, BrowserSession.ended_at.is_(None))
                    .values(last_seen_at=utcnow()).execution_options(synchronize_session=False))
