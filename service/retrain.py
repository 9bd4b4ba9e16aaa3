"""Retraining from reviewers' decisions: the database's confirmed documents join the shipped
training data, and the new version is activated only if it is not worse.

Only documents a person confirmed count (approved, published or withdrawn after review,
with a category): an unconfirmed suggestion never becomes training data. They join the
*train* split, so the evaluation split — and with it the promotion rule — stays the
same as the shipped model's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from service import audit
from service.config import PROJECT_ROOT, Settings
from service.db import Department, Document, transaction

SHIPPED_TRAINING_DATA = PROJECT_ROOT / "models" / "training" / "documents.jsonl"


def training_data_path(settings: Settings) -> Path:
    """The shipped training data, kept beside the model artifacts (``<models dir>/training``)."""
    return Path(settings.models_dir) / "training" / "documents.jsonl"
CONFIRMED_STATES = ("approved", "published", "withdrawn")


def confirmed_records(sessions) -> list[dict[str, Any]]:
    """Reviewer-confirmed documents as training records."""
    with transaction(sessions, readonly=True) as s:
        rows = s.execute(select(Document, Department.code).join(Department).where(
            Document.status.in_(CONFIRMED_STATES), Document.category.is_not(None),
            Document.reviewed_by.is_not(None), Document.text.is_not(None))).all()
        return [{"id": f"gongkai-{doc.id}", "title": doc.title, "text": doc.text, "category": doc.category,
                 "review_status": "confirmed", "label_source": "reviewer", "source": f"gongkai:{code}",
                 "split": "train"} for doc, code in rows]


def retrain(settings: Settings, sessions, actor: str, *, base_data: Path | None = None,
            candidate_names: list[str] | None = None) -> dict[str, Any]:
    """Train on the shipped data plus confirmed documents; save; promote if not worse."""
    from service import modelstore, train
    from service import trainingdata as D

    store = modelstore.store_from_settings(settings)
    confirmed = confirmed_records(sessions)
    base = D.read_jsonl(base_data or training_data_path(settings))
    result = train.train(base + confirmed, store.taxonomy, candidate_names=candidate_names)
    version = store.new_version_name()
    decision = train.save_and_promote(store, version, result)
    summary = {"version": version, "confirmed_documents": len(confirmed), **decision}
    with transaction(sessions) as s:
        audit.append(s, actor, "model.retrained", **{k: v for k, v in summary.items() if k != "message"})
    return summary
