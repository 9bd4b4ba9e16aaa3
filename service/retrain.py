"""Retraining from reviewers' decisions: the database's confirmed documents join the shipped
training data, and the new version is activated only if it is not worse.

Only documents a person confirmed count (approved, published or withdrawn after review,
with a category): an unconfirmed suggestion never becomes training data. They join the
*train* split, so the evaluation split — and with it the promotion rule — stays the
same as the shipped model's. Each record carries the document's stored tokens, so
retraining never segments a text again.

``confirmed_records(..., shareable=True)`` is what may leave this machine (``gongkai
export-training``: a city pools its counties' corrections to train a better shared
model): published documents only — already public — never one with a 密级 mark, never
an approved-but-unpublished or withdrawn one.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from service import audit
from service.classifier import store, train
from service.classifier import training_data as D
from service.classifier.training_data import STORED_TEXT_CHARS
from service.config import PROJECT_ROOT, Settings
from service.db import Department, Document, transaction

SHIPPED_TRAINING_DATA = PROJECT_ROOT / "models" / "training" / "documents.jsonl"


def training_data_path(settings: Settings) -> Path:
    """The shipped training data, kept beside the model artifacts (``<models dir>/training``);
    a models directory without it (a new one) trains on the data shipped in the package."""
    beside = Path(settings.models_dir) / "training" / "documents.jsonl"
    return beside if beside.is_file() else SHIPPED_TRAINING_DATA
CONFIRMED_STATES = ("approved", "published", "withdrawn")


def confirmed_records(sessions, *, shareable: bool = False, since: datetime | None = None,
                      source_prefix: str = "gongkai") -> list[dict[str, Any]]:
    """Reviewer-confirmed documents as training records (``shareable``: see the module
    docstring; ``since``: reviewed at or after). Each record's ``source`` is
    ``<source_prefix>:<department code>``: the source group that keeps evaluation
    source-disjoint, so a deployment exporting for a pool names itself."""

    stmt = select(Document, Department.code).join(Department).where(
        Document.status.in_(("published",) if shareable else CONFIRMED_STATES), Document.category.is_not(None),
        Document.reviewed_by.is_not(None), Document.text.is_not(None)).order_by(Document.id)
    if shareable:
        stmt = stmt.where(Document.secrecy_blocked.is_(False))
    if since is not None:
        stmt = stmt.where(Document.reviewed_at >= since)
    with transaction(sessions, readonly=True) as s:
        return [{"id": f"gongkai-{doc.id}", "title": doc.title, "text": doc.text[:STORED_TEXT_CHARS],
                 "category": doc.category, "review_status": "confirmed", "label_source": "reviewer",
                 "source": f"{source_prefix}:{code}", "split": "train", "date": doc.reviewed_at.date().isoformat()
                 if doc.reviewed_at else None, **({"tokens": doc.tokens} if doc.tokens else {})}
                for doc, code in s.execute(stmt).all()]


def retrain(settings: Settings, sessions, actor: str, *, base_data: Path | None = None,
            candidate_names: list[str] | None = None) -> dict[str, Any]:
    """Train on the shipped data plus confirmed documents; save; promote if not worse."""
    models = store.store_from_settings(settings)
    confirmed = confirmed_records(sessions)
    base = D.read_jsonl(base_data or training_data_path(settings))
    result = train.train(base + confirmed, models.taxonomy, candidate_names=candidate_names)
    version = models.new_version_name()
    decision = train.save_and_promote(models, version, result)
    summary = {"version": version, "confirmed_documents": len(confirmed), **decision}
    with transaction(sessions) as s:
        audit.append(s, actor, "model.retrained", **{k: v for k, v in summary.items() if k != "message"})
    return summary
