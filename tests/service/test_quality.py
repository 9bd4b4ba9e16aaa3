"""service/quality.py and `gongkai evaluate --reviewed`: the classifier scored on reviewers' decisions."""
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from classifier_helpers import training_records
from service import quality, review
from service import taxonomy as T
from service.cli import main
from service.db import Department, Document, transaction
from service.processing import ingest
from service.receiving import receive



@pytest.fixture
def rt(make_runtime):
    return make_runtime(department=None)


def add_reviewed(sessions, rows) -> None:
    """rows: (department code, status, confirmed category, model version, top category,
    pre-selected?, reviewed_at)."""
    with transaction(sessions) as s:
        departments = {}
        for i, (code, status, category, version, top, preselected, reviewed_at) in enumerate(rows):
            if code not in departments:
                departments[code] = Department(code=code, name=f"{code}部门")
                s.add(departments[code])
                s.flush()
            s.add(Document(department_id=departments[code].id, filename=f"{i}.pdf", sha256=f"{i:064x}", size=1,
                           status=status, category=category, model_version=version,
                           suggested_category=top if preselected else None, needs_attention=not preselected,
                           confidence=0.95 if preselected else 0.5,
                           candidates=[{"category": top, "probability": 0.95 if preselected else 0.5}],
                           explanation={"rules": []}, reviewed_by="审核员" if category else None,
                           reviewed_at=reviewed_at))


MARCH, JUNE = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
ROWS = [
    # version A: 4 pre-selected (3 kept, 1 corrected 规划计划 → 政策法规), 1 not pre-selected whose top was right
    ("zfb", "published", "工作动态", "A", "工作动态", True, MARCH),
    ("zfb", "approved", "工作动态", "A", "工作动态", True, MARCH),
    ("mzj", "withdrawn", "办事指南", "A", "办事指南", True, JUNE),
    ("mzj", "published", "政策法规及规范性文件", "A", "规划计划", True, JUNE),
    ("mzj", "approved", "应急预案", "A", "应急预案", False, JUNE),
    # version B: one pre-selected and kept
    ("zfb", "approved", "其他", "B", "其他", True, JUNE),
    # not counted: no reviewer decision on the category, or no suggestion at all
    ("zfb", "pending_review", None, "A", "工作动态", True, None),
    ("zfb", "rejected", None, "A", "工作动态", True, JUNE),
    ("zfb", "approved", "工作动态", None, "工作动态", True, JUNE),
]


def test_each_version_is_scored_on_the_suggestions_reviewers_saw(sessions):
    add_reviewed(sessions, ROWS)
    names = T.load().names
    with transaction(sessions, readonly=True) as s:
        versions = quality.quality_by_version(s, names)
        since_june = quality.quality_by_version(s, names, since=JUNE - timedelta(days=1))
    assert [v["version"] for v in versions] == ["A", "B"]          # the most-reviewed first
    a = versions[0]
    assert a["report"]["n"] == 5 and a["report"]["accuracy"] == 0.8
    assert a["report"]["confident"] == {"n": 4, "coverage": 0.8, "precision": 0.75, "errors": 1}
    assert a["corrections"] == [{"suggested": "规划计划", "confirmed": "政策法规及规范性文件", "count": 1}]
    assert a["report"]["intervals"]["method"] == "bootstrap over documents"     # two departments only
    goals = a["goals"]
    assert goals["confident_precision"] == {"target": 0.98, "measured": 0.75, "met": False,
                                            "interval": a["report"]["intervals"]["confident_precision"]}
    assert not goals["confident_coverage"]["met"]
    assert versions[1]["report"]["confident"]["precision"] == 1.0 and versions[1]["corrections"] == []
    assert [(v["version"], v["report"]["n"]) for v in since_june] == [("A", 3), ("B", 1)]


def test_departments_are_resampled_whole_once_there_are_enough(sessions):
    rows = [(f"d{i % 6}", "approved", "工作动态", "A", "工作动态" if i % 4 else "其他", True, MARCH) for i in range(24)]
    add_reviewed(sessions, rows)
    with transaction(sessions, readonly=True) as s:
        (entry,) = quality.quality_by_version(s, T.load().names)
    intervals = entry["report"]["intervals"]
    assert intervals["method"] == "bootstrap over source groups" and intervals["units"] == 6
    assert entry["corrections"] == [{"suggested": "其他", "confirmed": "工作动态", "count": 6}]


def test_real_uploads_classified_then_confirmed_or_corrected(rt):
    """Real documents through ingest and the real model; the figures are those of the suggestions stored."""
    with transaction(rt.sessions) as s:
        s.add(Department(code="xzf", name="XX县人民政府办公室"))
    records = [r for r in training_records() if r["split"] == "test" and r.get("title")][:8]
    taxonomy = T.load()
    ids = []
    for r in records:
        body = f"{r['title']}\n\n{r['text']}".encode()
        ids.append(receive(rt.sessions, rt.storage, department_id=1, filename=f"{r['id']}.txt",
                           stream=io.BytesIO(body), uploaded_by="张三").document_id)
        assert ingest(rt, ids[-1]) == "pending_review"
    stored = []
    with transaction(rt.sessions) as s:
        for doc_id, r in zip(ids, records, strict=True):
            doc = s.get(Document, doc_id)
            stored.append((doc.suggested_category, doc.candidates[0]["category"], r["category"]))
            review.confirm(s, doc, "审核员", taxonomy, category=r["category"])   # the reviewer decides
    with transaction(rt.sessions, readonly=True) as s:
        (entry,) = quality.quality_by_version(s, taxonomy.names)
    preselected = [(chosen, truth) for chosen, _, truth in stored if chosen]
    report = entry["report"]
    assert entry["version"].startswith("county-default/") and report["n"] == len(records)
    assert report["confident"]["n"] == len(preselected)
    assert report["confident"]["errors"] == sum(chosen != truth for chosen, truth in preselected)
    assert report["accuracy"] == round(sum(top == truth for _, top, truth in stored) / len(stored), 4)


def test_evaluate_reviewed_command_prints_figures_goals_and_corrections(db_url, sessions, tmp_path, monkeypatch,
                                                                        capsys):
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGKAI_DATA_DIR", str(tmp_path / "data"))
    assert main(["evaluate", "--reviewed"]) == 0
    assert "还没有经审核确认、带模型建议的文件" in capsys.readouterr().out
    add_reviewed(sessions, ROWS)
    assert main(["evaluate", "--reviewed", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [v["version"] for v in data["versions"]] == ["A", "B"] and data["since"] is None
    assert main(["evaluate", "--reviewed", "--since", "2026-05-31"]) == 0
    text = capsys.readouterr().out
    assert "模型 A：审核确认 3 篇" in text and "模型 B：审核确认 1 篇" in text
    assert "目标 预选准确率 ≥ 0.98：实测 0.500，未达到" in text
    assert "常见更正：规划计划 → 政策法规及规范性文件 1 篇" in text
