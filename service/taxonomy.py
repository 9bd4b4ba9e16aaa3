"""Disclosure taxonomy as data: local categories, the Art. 20 facet, rule hints.

A taxonomy file (JSON, see ``service/data/taxonomy/default.json``) lists the local
categories (code, name, one-line description, the items of 《政府信息公开条例》第二十条
each may correspond to, optional rule hints) and the 15 items of Art. 20 as a second
facet. A deployment may point ``GONGKAI_TAXONOMY_FILE`` at its own file.

``fingerprint`` is a SHA-256 over what changes predictions: the id, the ordered category
codes and names, the fallback and the rule hints. Descriptions and the Art. 20 mapping
can be edited without retraining; anything else makes a trained model refuse to serve
(``taxonomy_mismatch``).

Rule hints serve formulaic classes the training data lacks (人事任免: "关于…职务任免的通知").
A rule has a ``field`` (title, doc_number, body_head = the first 300 characters of the
body), a regular ``pattern``, an optional ``exclude`` pattern and a ``weight`` w: when it
fires, the category's probability p becomes (1 − w)·p + w (the others scale by 1 − w); rules
of several categories share the weight (``service.classifier.model.rule_weights``).
Fired rules are reported in the explanation; they never act silently.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from service.errors import GongkaiError

RULE_FIELDS = ("title", "doc_number", "body_head")
BODY_HEAD_CHARS = 300


class TaxonomyError(GongkaiError):
    code = "taxonomy_invalid"
    message_zh = "分类体系文件无效：{what}"
    message_en = "Invalid taxonomy file: {what}"


class TaxonomyNotFound(TaxonomyError):
    code = "taxonomy_not_found"
    message_zh = "找不到分类体系文件：{path}"
    message_en = "Taxonomy file not found: {path}"


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    field: str
    pattern: re.Pattern
    exclude: re.Pattern | None
    weight: float
    description: str

    def fires(self, value: str | None) -> bool:
        if not value or not self.pattern.search(value):
            return False
        return not (self.exclude and self.exclude.search(value))


@dataclass(frozen=True)
class RuleHit:
    rule: str
    category: str
    weight: float
    description: str
    matched: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "category": self.category, "weight": self.weight,
                "description": self.description, "matched": self.matched}


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str
    art20: tuple[int, ...] = ()
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    id: str
    name: str
    categories: tuple[Category, ...]
    art20_items: dict[int, str]
    fallback: str
    fingerprint: str
    source: str = ""
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.categories]

    def category(self, name_or_code: str) -> Category:
        for c in self.categories:
            if name_or_code in (c.name, c.code):
                return c
        raise KeyError(name_or_code)

    def __contains__(self, name: str) -> bool:
        return any(name in (c.name, c.code) for c in self.categories)

    def art20_for(self, name: str) -> list[dict[str, Any]]:
        """The Art. 20 items a local category may correspond to."""
        return [{"item": i, "text": self.art20_items[i]} for i in self.category(name).art20]

    def categories_for_item(self, item: int) -> list[str]:
        """Local categories mapped to Art. 20 item ``item``."""
        return [c.name for c in self.categories if item in c.art20]

    @cached_property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for c in self.categories for r in c.rules)

    def match_rules(self, title: str | None, body: str | None = None,
                    doc_number: str | None = None) -> list[RuleHit]:
        """Rule hints that fire on a document (inputs in analysis form)."""
        values = {"title": _strip_note(title), "doc_number": doc_number,
                  "body_head": (body or "")[:BODY_HEAD_CHARS]}
        hits = []
        for rule in self.rules:
            value = values[rule.field]
            if rule.fires(value):
                match = rule.pattern.search(value)
                hits.append(RuleHit(rule.id, rule.category, rule.weight, rule.description, match.group(0)))
        return hits


def _strip_note(title: str | None) -> str | None:
    """A title without a trailing (…) note: 关于…的议案(1958年) → 关于…的议案."""
    if not title:
        return title
    return re.sub(r"[(（【\[][^()（）【】\[\]]*[)）】\]]\s*$", "", title.strip()).strip()


def _compile(pattern: str, where: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise TaxonomyError(str(exc), what=f"{where}: 正则表达式无效") from exc


def _parse_rules(raw_rules: list, category: str) -> tuple[Rule, ...]:
    rules = []
    for raw in raw_rules or []:
        where = f"{category}/{raw.get('id', '?')}"
        if raw.get("field") not in RULE_FIELDS:
            raise TaxonomyError(what=f"{where}: field 必须是 {', '.join(RULE_FIELDS)} 之一")
        weight = float(raw.get("weight", 0.5))
        if not 0 < weight < 1:
            raise TaxonomyError(what=f"{where}: weight 必须在 0 与 1 之间")
        rules.append(Rule(id=str(raw["id"]), category=category, field=raw["field"],
                          pattern=_compile(raw["pattern"], where),
                          exclude=_compile(raw["exclude"], where) if raw.get("exclude") else None,
                          weight=weight, description=str(raw.get("description", ""))))
    return tuple(rules)


def fingerprint(data: dict) -> str:
    """SHA-256 of the prediction-relevant part of a taxonomy document."""
    relevant = {
        "id": data.get("id"),
        "fallback": data.get("fallback"),
        "categories": [{"code": c.get("code"), "name": c.get("name"), "rules": c.get("rules", [])}
                       for c in data.get("categories", [])],
    }
    canonical = json.dumps(relevant, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse(data: dict, source: str = "") -> Taxonomy:
    """Validate a taxonomy document and build a ``Taxonomy``."""
    if not isinstance(data, dict) or not data.get("id") or not data.get("categories"):
        raise TaxonomyError(what="缺少 id 或 categories")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", str(data["id"])):
        raise TaxonomyError(what="id 只能包含字母、数字、点、下划线和连字符")
    items = {int(i["item"]): str(i["text"]) for i in (data.get("art20") or {}).get("items", [])}
    categories = []
    for raw in data["categories"]:
        if not raw.get("code") or not raw.get("name"):
            raise TaxonomyError(what="每个分类都需要 code 和 name")
        art20 = tuple(int(i) for i in raw.get("art20", []))
        unknown = [i for i in art20 if i not in items]
        if unknown:
            raise TaxonomyError(what=f"{raw['name']}: 第二十条没有第 {unknown} 项")
        categories.append(Category(code=str(raw["code"]), name=str(raw["name"]),
                                   description=str(raw.get("description", "")), art20=art20,
                                   rules=_parse_rules(raw.get("rules"), str(raw["name"]))))
    for attr in ("code", "name"):
        values = [getattr(c, attr) for c in categories]
        if len(set(values)) != len(values):
            raise TaxonomyError(what=f"分类 {attr} 重复")
    fallback = data.get("fallback") or categories[-1].name
    if fallback not in [c.name for c in categories]:
        raise TaxonomyError(what=f"fallback “{fallback}” 不是已定义的分类")
    return Taxonomy(id=str(data["id"]), name=str(data.get("name", data["id"])),
                    categories=tuple(categories), art20_items=items, fallback=fallback,
                    fingerprint=fingerprint(data), source=source, raw=data)


def default_path() -> Path:
    return Path(str(resources.files("service").joinpath("data", "taxonomy", "default.json")))


@lru_cache(maxsize=8)
def load(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy in ``path`` (JSON), or the built-in default when ``path`` is empty."""
    path = Path(path) if path else default_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TaxonomyNotFound(path=str(path)) from exc
    except (OSError, ValueError) as exc:
        raise TaxonomyError(str(exc), what=f"{path}: 不是有效的 JSON") from exc
    return parse(data, source=str(path))


def from_settings(settings) -> Taxonomy:
    """The taxonomy a deployment configured (``Settings.taxonomy_file``)."""
    return load(settings.taxonomy_file or None)
