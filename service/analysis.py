"""Analysis of an extracted document: tokens, a suggested category, privacy and 密级 findings.

Pure functions of an ``Extraction`` and the settings (the model is loaded once per process).
Tokens are stored with the document so re-classification never re-segments.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.config import Settings
from service.pipeline import Extraction


#: Findings stored per document; a hostile file could otherwise produce millions. Blocking
#: findings are kept first, and ``secrecy_blocked`` is computed over all of them.
MAX_FINDINGS = 500


@dataclass(frozen=True)
class Analysis:
    tokens: dict[str, Any]
    prediction: dict[str, Any]
    findings: list[dict[str, Any]]
    secrecy_blocked: bool


def _hit(extraction: Extraction, name: str) -> str | None:
    hit = extraction.metadata.get(name)
    return str(hit.value) if hit is not None else None


def analyze(extraction: Extraction, settings: Settings) -> Analysis:
    from service.modelstore import active_classifier
    from service.privacy import scan_document
    from service.text import tokenize_document

    tokens = tokenize_document(extraction.title, extraction.analysis_text, doc_type=_hit(extraction, "doc_type"),
                               doc_number=_hit(extraction, "doc_number"), analysed=True)
    prediction = active_classifier(settings).predict_document(tokens).to_dict()
    findings = sorted(scan_document(extraction.document), key=lambda f: not f.blocking)
    return Analysis(tokens=tokens.to_dict(), prediction=prediction,
                    findings=[f.to_dict() for f in findings[:MAX_FINDINGS]],
                    secrecy_blocked=any(f.blocking for f in findings))
