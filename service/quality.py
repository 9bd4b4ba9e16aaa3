"""How the classifier fares on this deployment's own documents, read off reviewers' decisions.

The model card measures a model on a test split of public documents from elsewhere. What
a county needs to know is how the suggestions fare on its own uploads. Every reviewed
document keeps the suggestion the reviewer saw — the category pre-selected or not
(``needs_attention``), the confidence, the top three, the model version; reclassification
never rewrites the suggestion of a confirmed document — beside the category the reviewer
confirmed. So the classifier's goals can be checked on real use, per model version:

- coverage: the share of reviewed documents that had a category pre-selected;
- precision: the share of those whose pre-selected category the reviewer kept;
- macro-F1 and accuracy of the top category, pre-selected or not;

with the same bootstrap intervals as the model card (departments resampled whole once
there are ``MIN_DEPARTMENTS_TO_RESAMPLE``: documents of one department are alike), and the
corrections reviewers made most often.

Counted: documents approved, published or withdrawn with a category and a reviewer
(``service.retrain.CONFIRMED_STATES``; the same documents retraining learns from), that
carry a suggestion. A caveat the page repeats: a reviewer who sees a pre-selected category
may keep it more readily than one who chooses afresh, so precision here is an upper bound
of the model's own.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.classifier import evaluation
from service.classifier.card import GOALS, goal_figures
from service.db import Department, Document
from service.retrain import CONFIRMED_STATES

CORRECTIONS_LISTED = 5
#: Departments are resampled whole only when there are this many; with fewer, a bootstrap
#: over departments could only redraw the same few and would understate the uncertainty.
MIN_DEPARTMENTS_TO_RESAMPLE = 5


@dataclass(frozen=True)
class ReviewedSuggestion:
    """A stored suggestion as ``evaluation.evaluate`` reads a prediction, with its outcome.
    The explanation is not read (it is the bulk of a row and no figure here needs it)."""

    top_category: str
    needs_attention: bool
    confidence: float
    confirmed: str
    department: str
    explanation = property(lambda self: {})


def reviewed_suggestions(session: Session, *, since: datetime | None = None,
                         until: datetime | None = None) -> dict[str, list[ReviewedSuggestion]]:
    """Reviewed documents with the suggestion they were reviewed with, by model version.

    ``since``/``until`` bound the review time (``reviewed_at``)."""
    stmt = (select(Document.model_version, Document.suggested_category, Document.candidates,
                   Document.needs_attention, Document.confidence, Document.category,
                   Department.code)
            .join(Department, Department.id == Document.department_id)
            .where(Document.status.in_(CONFIRMED_STATES), Document.category.is_not(None),
                   Document.reviewed_by.is_not(None), Document.model_version.is_not(None))
            .order_by(Document.id))
    if since is not None:
        stmt = stmt.where(Document.reviewed_at >= since)
    if until is not None:
        stmt = stmt.where(Document.reviewed_at < until)
    out: dict[str, list[ReviewedSuggestion]] = defaultdict(list)
    for version, suggested, candidates, needs_attention, confidence, category, code in session.execute(stmt):
        top = (candidates[0]["category"] if candidates else None) or suggested
        if top is None:
            continue
        out[version].append(ReviewedSuggestion(
            top_category=top, needs_attention=bool(needs_attention) or suggested is None,
            confidence=float(confidence or 0.0), confirmed=category, department=code))
    return dict(out)


def _corrections(items: Sequence[ReviewedSuggestion]) -> list[dict[str, Any]]:
    """Pre-selected categories the reviewer changed, most frequent first."""
    changed = Counter((i.top_category, i.confirmed) for i in items
                      if not i.needs_attention and i.top_category != i.confirmed)
    return [{"suggested": a, "confirmed": b, "count": n}
            for (a, b), n in sorted(changed.items(), key=lambda kv: (-kv[1], kv[0]))[:CORRECTIONS_LISTED]]


def _goals(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    got = goal_figures(report)
    intervals = report.get("intervals") or {}
    return {key: {"target": target, "measured": got[key], "interval": intervals.get(key), "met": got[key] >= target}
            for key, target in GOALS.items()}


def quality_by_version(session: Session, labels: Sequence[str], *, since: datetime | None = None,
                       until: datetime | None = None) -> list[dict[str, Any]]:
    """Figures per model version, the most-reviewed version first.

    Each entry: ``version``, ``report`` (``evaluation.evaluate``: accuracy, macro-F1,
    per-category figures, confusion, ``confident`` share, ``intervals`` over departments),
    ``goals`` (each goal's target, measurement, interval and whether it is met) and
    ``corrections`` (pre-selected → confirmed, most frequent first)."""
    out = []
    for version, items in reviewed_suggestions(session, since=since, until=until).items():
        known = list(labels) + sorted({c for i in items for c in (i.top_category, i.confirmed)} - set(labels))
        departments = [i.department for i in items]
        grouped = len(set(departments)) >= MIN_DEPARTMENTS_TO_RESAMPLE
        report = evaluation.evaluate([i.confirmed for i in items], items, known,
                                     groups=departments if grouped else None)
        report.pop("rules_fired", None)                   # explanations are not read here
        out.append({"version": version, "report": report, "goals": _goals(report), "corrections": _corrections(items)})
    return sorted(out, key=lambda e: (-e["report"]["n"], e["version"]))
