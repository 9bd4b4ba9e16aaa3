"""Retraining uses reviewer-confirmed documents only, and keeps the promotion rule."""
import json
from pathlib import Path

import pytest

from service import config
from service.db import AuditEntry, Department, Document, transaction
from service.retrain import SHIPPED_TRAINING_DATA, confirmed_records, retrain
from service.runtime import Runtime


@pytest.fixture
def rt(make_runtime, tmp_path):
    return make_runtime(department=("rsj", "县人社局"), models_dir=str(tmp_path / "models"))


NOTICE = "经县人民政府研究决定：任命张三为县人力资源和社会保障局副局长；免去李四的县人力资源和社会保障局副局长职务。"


def add(rt, status, category=None, suggested=None, reviewed_by=None, n=0) -> int:
    with transaction(rt.sessions) as s:
        doc = Document(department_id=1, filename=f"{n}.txt", sha256=f"{n}".rjust(64, "0"), size=1, status=status,
                       title=f"县人民政府关于张三等同志职务任免的通知（{n}）", text=NOTICE, category=category,
                       suggested_category=suggested, reviewed_by=reviewed_by)
        s.add(doc)
        s.flush()
        return doc.id


def test_only_confirmed_documents_become_training_data(rt):
    confirmed = [add(rt, "approved", "人事任免", "其他", "审核员", 1),
                 add(rt, "published", "人事任免", None, "审核员", 2)]
    add(rt, "pending_review", None, "人事任免", None, 3)  # a suggestion nobody confirmed
    add(rt, "rejected", None, "人事任免", "审核员", 4)
    records = confirmed_records(rt.sessions)
    assert sorted(r["id"] for r in records) == sorted(f"gongkai-{i}" for i in confirmed)
    assert {r["category"] for r in records} == {"人事任免"} and {r["split"] for r in records} == {"train"}
    assert all(r["review_status"] == "confirmed" for r in records)


@pytest.fixture
def sqlite_rt(tmp_path):
    """Training does not depend on the database (the query above is tested on both): SQLite only."""
    from service.db import make_engine
    from service.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'train.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    runtime = Runtime.from_settings(config.load({"database_url": url, "data_dir": str(tmp_path / "data"),
                                                 "models_dir": str(tmp_path / "models")}))
    with transaction(runtime.sessions) as s:
        s.add(Department(code="rsj", name="县人社局"))
    yield runtime
    runtime.close()


def test_retrain_saves_a_version_promotes_it_and_audits(sqlite_rt, tmp_path):
    rt = sqlite_rt
    for n in range(5):
        add(rt, "approved", "人事任免", None, "审核员", n)
    base = tmp_path / "base.jsonl"
    rows = [json.loads(line) for line in SHIPPED_TRAINING_DATA.read_text(encoding="utf-8").splitlines()]
    base.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    summary = retrain(rt.settings, rt.sessions, "admin", base_data=base, candidate_names=["logistic_regression_c30"])
    assert summary["confirmed_documents"] == 5 and summary["promoted"]
    version_dir = Path(rt.settings.models_dir) / "county-default" / summary["version"]
    metadata = json.loads((version_dir / "metadata.json").read_text(encoding="utf-8"))
    assert (version_dir / "model.skops").is_file() and "人事任免" in metadata["labels"]
    counts = metadata["training_data"]["counts"]
    assert metadata["training_data"]["records"] == len(rows) + 5
    assert counts["train"]["人事任免"] == 1 + 5  # the one real example and the five confirmed notices
    assert metadata["training_data"]["refused_unconfirmed"] == 0
    with transaction(rt.sessions, readonly=True) as s:
        entry = s.query(AuditEntry).filter(AuditEntry.action == "model.retrained").one()
        assert entry.detail["version"] == summary["version"] and entry.actor == "admin"


def test_confirmed_records_carry_the_stored_tokens_so_retraining_never_segments_again(rt, monkeypatch):
    from service.analysis import tokenizer
    from service.classifier import train
    from service import taxonomy as T

    doc_id = add(rt, "approved", "人事任免", None, "审核员", 1)
    tokens = tokenizer.tokenize_document("县人民政府关于张三等同志职务任免的通知（1）", NOTICE)
    with transaction(rt.sessions) as s:
        s.get(Document, doc_id).tokens = tokens.to_dict()
    (record,) = confirmed_records(rt.sessions)
    assert record["tokens"] == tokens.to_dict()

    def refuse(*args, **kwargs):
        raise AssertionError("segmented again")

    monkeypatch.setattr(train, "tokenize_document", refuse)
    data, _ = train.prepare([record], T.load())
    assert data.docs == [tokens]


def test_only_published_documents_without_a_secrecy_mark_are_shareable(rt):
    published = add(rt, "published", "人事任免", "人事任免", "审核员", 1)
    secret = add(rt, "published", "人事任免", "人事任免", "审核员", 2)
    add(rt, "approved", "人事任免", "人事任免", "审核员", 3)      # confirmed, not public
    add(rt, "withdrawn", "人事任免", "人事任免", "审核员", 4)     # public once, withdrawn since
    with transaction(rt.sessions) as s:
        s.get(Document, secret).secrecy_blocked = True
    assert len(confirmed_records(rt.sessions)) == 4                 # all of them stay usable here
    assert [r["id"] for r in confirmed_records(rt.sessions, shareable=True)] == [f"gongkai-{published}"]


def test_export_training_then_train_with_it_elsewhere(sqlite_rt, tmp_path, monkeypatch, capsys):
    """One deployment exports its published corrections; another trains on them (--confirmed)."""
    from datetime import UTC, datetime

    from service.classifier import training_data as D
    from service.cli import main

    rt = sqlite_rt
    for n in range(3):
        add(rt, "published", "人事任免", "其他", "审核员", n)
    with transaction(rt.sessions) as s:
        s.get(Document, 1).reviewed_at = datetime(2026, 1, 5, tzinfo=UTC)
        for doc_id in (2, 3):
            s.get(Document, doc_id).reviewed_at = datetime(2026, 3, 5, tzinfo=UTC)
    monkeypatch.setenv("GONGKAI_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("GONGKAI_DATA_DIR", str(rt.settings.data_dir))
    out = tmp_path / "county.jsonl"
    assert main(["export-training", "--out", str(out)]) == 0
    assert "导出已公开、经审核确认的文件 3 篇" in capsys.readouterr().err
    exported = D.read_jsonl(out)
    assert [r["source"] for r in exported] == ["gongkai:rsj"] * 3 and all(D.is_confirmed(r) for r in exported)
    assert main(["export-training", "--since", "2026-02-01", "--name", "长武县"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["source"]) for r in lines] == [("gongkai-2", "长武县:rsj"), ("gongkai-3", "长武县:rsj")]

    models = tmp_path / "city-models"
    assert main(["train", "--confirmed", str(out), "--out", str(models), "--candidates", "logistic_regression_c30",
                 "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    metadata = json.loads((Path(summary["path"]) / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["training_data"]["counts"]["train"]["人事任免"] == 1 + 3

    assert main(["train", "--reviewed", "--out", str(tmp_path / "here"), "--candidates", "logistic_regression_c30",
                 "--no-progress", "--no-promote", "--json"]) == 0
    assert "数据库：采用经审核确认的文件 3 篇" in capsys.readouterr().err


def test_train_reports_a_missing_data_file_as_a_message(tmp_path, capsys):
    from service.cli import main

    assert main(["train", "--data", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "m")]) == 2
    assert "找不到文件" in capsys.readouterr().err
