"""Training data: building the shipped set from the corpus, source groups, splits, confirmation.

A training record is one JSON line with ``text``, ``category`` and optionally ``title``,
``doc_type``, ``doc_number``, ``tokens`` (stored ``DocumentTokens``), ``source``, ``group``
(the website or collection it came from), ``split`` (train / validation / test) and the
corpus provenance fields (``id``, ``label_source``, ``provenance``, ``issuer``, ``date``,
``label_note``, ``text_is_excerpt``).

Only labels a person stands behind are trained on: the curated corpus labels
(``label_source`` site / source / manual) and reviewer confirmations
(``review_status: "confirmed"`` or ``confirmed: true``). A record that is a model's own
prediction (``label_source`` model/prediction, or a review status other than confirmed)
is refused, so the model never learns from its unconfirmed guesses.

Splits are by source group, never by row, so near-duplicates from one site cannot sit on
both sides. ``build_from_corpus`` caps the over-represented national legislation and
central-ministry policies so they do not swamp county-style documents.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from service.errors import GongkaiError

SPLITS = ("train", "validation", "test")
CURATED_LABEL_SOURCES = frozenset({"site", "source", "manual", "reviewer"})
#: Caps on over-represented collections (kept by deterministic hash order): national
#: legislation in total, and each policy issuer per category.
LAW_CAP = 60
POLICY_ISSUER_CAP = 12
#: Texts longer than this are stored truncated (the model reads the head of the body).
STORED_TEXT_CHARS = 6000
#: Collections kept whole in one split (a single website or repository each).
FIXED_SPLITS = {"lawrefbook": "train", "gwr:national:state-council": "train",
                "gwr:national:npc": "train"}
#: Order in which the groups of one class are dealt to splits: 60 / 20 / 20, train first so
#: a class with a single source is at least learnt.
SPLIT_CYCLE = ("train", "test", "validation", "train", "train")


class DataError(GongkaiError):
    code = "training_data_invalid"
    message_zh = "训练数据无效：{what}"
    message_en = "Invalid training data: {what}"


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    if not Path(path).is_file():
        raise DataError(what=f"找不到文件 {path}")
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise DataError(str(exc), what=f"{path} 第 {number} 行不是有效的 JSON") from exc
    return records


def write_jsonl(records: Iterable[dict[str, Any]], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def _stable_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def data_hash(records: Iterable[dict[str, Any]]) -> str:
    """SHA-256 over the (title, text, category, split) of every record, order-independent."""
    digests = sorted(_stable_hash(json.dumps([r.get("title"), r.get("text"), r.get("category"),
                                              r.get("split")], ensure_ascii=False)) for r in records)
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def source_group(record: dict[str, Any]) -> str:
    """The website or collection a record came from: the unit of a source-disjoint split."""
    if record.get("group"):
        return str(record["group"])
    source = record.get("source") or ""
    provenance = record.get("provenance") or ""
    if provenance.startswith(("http://", "https://")):
        host = urlparse(provenance).netloc.lower().split(":")[0]
        return "web:" + re.sub(r"^(www|m|wap)\.", "", host)
    if source == "lawrefbook_laws":
        return "lawrefbook"
    if source == "policies_central_shandong":
        # A spreadsheet of policies copied from their issuers' websites: the issuer is the source.
        return "policies:" + _lead_issuer(record.get("issuer") or "")
    if source == "gov_work_reports_national":
        # State Council reports and the NPC's resolutions approving them: two issuers.
        return "gwr:national:npc" if "决议" in (record.get("title") or "") else "gwr:national:state-council"
    if source == "gov_work_reports_provincial_2026":
        match = re.search(r"2026_([^/_]+)_政府工作报告", provenance)
        return "gwr2026:" + (match.group(1) if match else provenance)
    if source == "bu_spark_normative":
        return "pkulaw"
    return f"{source or 'unknown'}:{provenance or record.get('id', '')}"


def _lead_issuer(issuer: str) -> str:
    """The first issuing body, without office prefixes: 'General Office of the State Council,
    …' → 'State Council'."""
    lead = re.split(r",|;| and (?=Jinan|Qingdao|Shandong|Laoshan)", issuer)[0]
    lead = re.sub(r"^(\w+ Departments including |General Office of (the )?|Comprehensive Department of (the )?)",
                  "", lead)
    lead = re.sub(r"\s*(of the People's Republic of China|\(Changed\)|\(formerly.*\))\s*$", "", lead)
    return lead.strip() or "unknown"


def assign_splits(records: list[dict[str, Any]]) -> None:
    """Set ``group`` and ``split`` on every record: whole groups go to one split.

    Big single-source collections have a fixed split (``FIXED_SPLITS``). The other groups
    are dealt per class, rarest class first, in hash order along ``SPLIT_CYCLE``.
    """
    groups: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        record["group"] = source_group(record)
        groups[record["group"]].append(record)
    frequency = Counter(r["category"] for r in records)
    dealt: Counter = Counter()
    by_class: dict[str, list[str]] = defaultdict(list)
    for group, members in groups.items():
        if group in FIXED_SPLITS:
            continue
        rarest = min({m["category"] for m in members}, key=lambda c: (frequency[c], c))
        by_class[rarest].append(group)
    split_of = dict(FIXED_SPLITS)
    for category in sorted(by_class, key=lambda c: (frequency[c], c)):
        for group in sorted(by_class[category], key=_stable_hash):
            split_of[group] = SPLIT_CYCLE[dealt[category] % len(SPLIT_CYCLE)]
            dealt[category] += 1
    for record in records:
        record["split"] = split_of[record["group"]]


def _cap_key(record: dict[str, Any]) -> tuple[Any, int] | None:
    if record.get("source") == "lawrefbook_laws":
        return ("lawrefbook",), LAW_CAP
    if record.get("source") == "policies_central_shandong":
        return (source_group(record), record["category"]), POLICY_ISSUER_CAP
    return None


def _capped(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept: list[dict] = []
    buckets: dict[Any, list[dict]] = defaultdict(list)
    caps: dict[Any, int] = {}
    for record in records:
        key = _cap_key(record)
        if key is None:
            kept.append(record)
        else:
            buckets[key[0]].append(record)
            caps[key[0]] = key[1]
    for key, members in buckets.items():
        # Round-robin over sub-collections (law kinds) so the cap keeps their variety.
        kinds: dict[str, list[dict]] = defaultdict(list)
        for m in sorted(members, key=lambda r: _stable_hash(r["id"])):
            kinds[(m.get("provenance") or "").split("/")[0]].append(m)
        order = [kinds[k] for k in sorted(kinds)]
        picked: list[dict] = []
        while len(picked) < caps[key] and any(order):
            for bucket in order:
                if bucket and len(picked) < caps[key]:
                    picked.append(bucket.pop(0))
        kept.extend(picked)
    return kept


def build_from_corpus(corpus_path: str | Path) -> list[dict[str, Any]]:
    """The shipped training set: the corpus capped, texts truncated, groups and splits set."""
    corpus = read_jsonl(corpus_path)
    records = []
    for doc in _capped(corpus):
        record = dict(doc)
        text = record["text"]
        if len(text) > STORED_TEXT_CHARS:
            record["text"] = text[:STORED_TEXT_CHARS]
            record["text_truncated_from"] = len(text)
        records.append(record)
    assign_splits(records)
    records.sort(key=lambda r: (SPLITS.index(r["split"]), r["group"], r["id"]))
    return records


def is_confirmed(record: dict[str, Any]) -> bool:
    """True when a person stands behind the record's label (see module docstring)."""
    status = record.get("review_status")
    if status is not None or "confirmed" in record:
        return status == "confirmed" or record.get("confirmed") is True
    return record.get("label_source") in CURATED_LABEL_SOURCES


def labelled_records(records: Iterable[dict[str, Any]], categories: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Validate records for training or evaluation; raise on a missing text or unknown label."""
    known = set(categories)
    for number, record in enumerate(records, 1):
        if not isinstance(record.get("text"), str) or not record.get("category"):
            raise DataError(what=f"第 {number} 条缺少 text 或 category")
        if record["category"] not in known:
            raise DataError(what=f"第 {number} 条的分类“{record['category']}”不在分类体系中")
        yield record


def split_counts(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        counts[r.get("split", "train")][r["category"]] += 1
    return {s: dict(sorted(c.items())) for s, c in counts.items()}
