"""公开属性: whether a document is 主动公开, 依申请公开 or 不予公开, and on what statutory ground.

Decided for every document at drafting (源头认定); many print it themselves below the date
(``（此件公开发布）``, ``（此件依申请公开）``, ``（此件不予公开）``: the 公文 field ``disclosure``).
The attributes, the reasons from the 条例's articles and which reason fits which attribute are
data (``service/data/disclosure.json``), like the taxonomy. A document starts as its own note
says, otherwise 主动公开; a reviewer changes it (``review.set_disclosure``), with a reason where
the attribute needs one. Only 主动公开 documents are published into the catalogue.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

ACTIVE = "active"


@dataclass(frozen=True)
class Attribute:
    code: str
    name: str
    reason_required: bool
    description: str


@dataclass(frozen=True)
class Reason:
    code: str
    article: str
    name: str
    applies_to: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.article} {self.name}"


@dataclass(frozen=True)
class Rules:
    attributes: tuple[Attribute, ...]
    reasons: tuple[Reason, ...]
    notes: dict[str, str]

    def attribute(self, code: str) -> Attribute | None:
        return next((a for a in self.attributes if a.code == code), None)

    def reason(self, code: str | None) -> Reason | None:
        return next((r for r in self.reasons if r.code == code), None)

    def reasons_for(self, attribute: str) -> list[Reason]:
        return [r for r in self.reasons if attribute in r.applies_to]


@lru_cache(maxsize=1)
def rules() -> Rules:
    raw = json.loads(resources.files("service").joinpath("data", "disclosure.json").read_text(encoding="utf-8"))
    return Rules(
        attributes=tuple(Attribute(a["code"], a["name"], bool(a["reason_required"]), a["description"])
                         for a in raw["attributes"]),
        reasons=tuple(Reason(r["code"], r["article"], r["name"], tuple(r["for"])) for r in raw["reasons"]),
        notes=dict(raw["document_notes"]))


def from_gongwen(gongwen: dict[str, Any] | None) -> str:
    """The attribute a document's own note gives (``（此件依申请公开）``), else 主动公开."""
    hit = (gongwen or {}).get("disclosure") or {}
    value = hit.get("value") if isinstance(hit, dict) else None
    return rules().notes.get(value or "", ACTIVE)


def describe(attribute: str | None, reason: str | None) -> dict[str, Any]:
    """The attribute and reason with their names, for pages and the API."""
    found = rules()
    attr = found.attribute(attribute or ACTIVE)
    why = found.reason(reason)
    return {"attribute": attribute or ACTIVE, "name": attr.name if attr else attribute,
            "reason": reason, "reason_name": why.label if why else None}
