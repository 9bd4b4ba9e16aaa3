"""The 密级 grammar (service.analysis.marks) measured on a labelled set, and shared by privacy and gongwen.

tests/data/secrecy_marks.jsonl: one string a line with ``text``, ``label`` (``mark``: it
carries a 密级 marking; ``prose``: it does not), ``form`` (what it tests), optionally
``where`` (body by default; table: one cell; table_row: cells split at tabs; header,
textbox, footer, watermark: hidden text) and, for prose, ``source`` (the corpus document
id it was taken from, or ``hand``). Every string goes through privacy.scan_document as a
real document would.
"""
from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from service.analysis import gongwen, marks, privacy
from service.parsers import HiddenText, Paragraph, ParsedDocument, Table

DATA = Path(__file__).resolve().parents[2] / "data" / "secrecy_marks.jsonl"
RECORDS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def _document(record: dict) -> ParsedDocument:
    text, where = record["text"], record.get("where", "body")
    if where == "body":
        return ParsedDocument(blocks=(Paragraph(text),), page_count=1)
    if where == "table":
        return ParsedDocument(blocks=(Table(((text,),)),), page_count=1)
    if where == "table_row":
        return ParsedDocument(blocks=(Table((tuple(text.split("\t")),)),), page_count=1)
    return ParsedDocument(blocks=(Paragraph("关于做好有关工作的通知"),), page_count=1,
                          hidden=(HiddenText(where, text, where),))


def _flagged(record: dict) -> bool:
    return any(f.kind == privacy.SECRECY and f.blocking for f in privacy.scan_document(_document(record)))


def test_the_labelled_set_is_large_and_well_formed():
    labels = collections.Counter(r["label"] for r in RECORDS)
    assert labels["mark"] >= 100 and labels["prose"] >= 100, labels
    assert all(set(r) >= {"text", "label", "form"} and r["label"] in ("mark", "prose") for r in RECORDS)
    assert len({(r["text"], r.get("where")) for r in RECORDS}) == len(RECORDS), "duplicates"


def test_recall_on_markings_and_false_positive_rate_on_prose():
    marks_ = [r for r in RECORDS if r["label"] == "mark"]
    prose = [r for r in RECORDS if r["label"] == "prose"]
    missed = [r for r in marks_ if not _flagged(r)]
    flagged = [r for r in prose if _flagged(r)]
    recall = 1 - len(missed) / len(marks_)
    fp_rate = len(flagged) / len(prose)
    by_form = collections.Counter(r["form"] for r in marks_)
    print(f"\nmarkings: {len(marks_) - len(missed)}/{len(marks_)} found, recall {recall:.1%}; "
          f"prose: {len(flagged)}/{len(prose)} flagged, false-positive rate {fp_rate:.1%}")
    print("markings by form:", dict(sorted(by_form.items())))
    assert recall == 1.0, [(r["form"], r["text"]) for r in missed]
    assert fp_rate <= 0.01, [(r["form"], r["text"]) for r in flagged]


@pytest.mark.parametrize("text", [
    "機密★1年", "本文件为机密*1年请妥善保管", "密級：機密", "机密 1年", "机密\uf0ab1年", "「机密」", "机密（★1年）",
    "绝密·长期",
])
def test_the_markings_the_probe_missed_now_block(text):
    found = privacy.scan_text(text)
    assert [k for k, *_ in found] == ["secrecy"], found


@pytest.mark.parametrize("line, expected", [
    ("機密★1年", {"secrecy": "机密", "secrecy_period": "1年"}),
    ("密級：機密", {"secrecy": "机密"}),
    ("机密 1年", {"secrecy": "机密", "secrecy_period": "1年"}),
    ("机密\uf0ab1年", {"secrecy": "机密", "secrecy_period": "1年"}),
    ("「机密」", {"secrecy": "机密"}),
    ("机密（★1年）", {"secrecy": "机密", "secrecy_period": "1年"}),
    ("绝密·长期", {"secrecy": "绝密", "secrecy_period": "长期"}),
    ("绝密☆启用前", {"secrecy": "绝密", "secrecy_period": "启用前"}),
    ("000123 秘密★六个月 急件", {"secrecy": "秘密", "secrecy_period": "六个月", "urgency": "急件"}),
    ("【机密】 【特急】", {"secrecy": "机密", "urgency": "特急"}),
    ("内部资料 注意保存", {}),
    ("秘密、机密、绝密", None),
    ("涉及国家秘密的不予公开", None),
])
def test_gongwen_reads_the_same_grammar(line, expected):
    assert marks.header_fields(line) == expected
    hits = gongwen.extract_gongwen([line, "XX县人民政府关于做好有关工作的通知"])
    got = {k: hits[k].value for k in ("secrecy", "secrecy_period", "urgency") if hits.get(k)}
    assert got == (expected or {})


def test_gongwen_reads_a_period_on_the_line_below_the_level():
    hits = gongwen.extract_gongwen(["000012", "机密", "★1年", "特急", "XX县人民政府关于做好有关工作的通知"])
    got = {k: hits[k].value for k in ("secrecy", "secrecy_period", "urgency") if hits.get(k)}
    assert got == {"secrecy": "机密", "secrecy_period": "1年", "urgency": "特急"}


def test_privacy_and_gongwen_agree_on_every_header_line_of_the_set():
    """A one-line marking gongwen reads as a 密级 field is always a blocking finding."""
    for r in RECORDS:
        if r.get("where", "body") != "body" or "\n" in r["text"] or len(r["text"]) > 30:
            continue
        fields = marks.header_fields(r["text"])
        if fields and "secrecy" in fields:
            assert _flagged(r), r
            assert r["label"] == "mark", r


CORPUS_LINES = Path(__file__).resolve().parents[2] / "data" / "secrecy_corpus_lines.jsonl"


def test_no_mark_in_the_shared_corpus():
    """Every line of the 777 published corpus documents that names a level, 密级 or 内部.

    tests/data/secrecy_corpus_lines.jsonl is copied from ../shared/corpus (whole lines up to
    200 characters, else 60 characters either side of each hit); bench/bench_marks.py runs
    the whole corpus, old and new detector side by side. None of these documents carries a
    marking: they were all published.
    """
    lines = [json.loads(line) for line in CORPUS_LINES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) > 500
    hits = [(r["id"], r["text"], found) for r in lines if (found := privacy.scan_text(r["text"]))
            and any(kind in (privacy.SECRECY, privacy.INTERNAL) for kind, *_ in found)]
    print(f"\ncorpus lines: {len(lines)}, with a secrecy or internal finding: {len(hits)}")
    assert not hits, hits[:5]


def test_hostile_inputs_stay_linear():
    """Long runs around the parts of a mark (spaces, levels, stars, labels) stay fast."""
    import time

    texts = [
        "机密" + " " * 20_000 + "x",
        "密级" + " " * 20_000 + "：机密",
        "此件为" + " " * 20_000 + "秘密",
        "机密" + "\u3000" * 20_000 + "★1年",
        "秘密★" * 50_000,
        "机密\n" * 30_000,
        "（机密 " * 30_000,
        "機密" * 50_000,
    ]
    start = time.perf_counter()
    for text in texts:
        privacy.scan_text(text)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("text, kinds", [
    ("工作秘密", ["internal"]),
    ("工作秘密★1年", ["internal"]),          # 工作秘密 with a period is still not a 密级
    ("内部资料 注意保存", ["internal"]),
    ("（内部资料）", ["internal"]),
    ("★1年", []),                          # a period alone: the level line above it is the mark
    ("工作秘密不得公开。", []),
])
def test_work_secrets_stay_internal(text, kinds):
    assert [k for k, *_ in privacy.scan_text(text)] == kinds
