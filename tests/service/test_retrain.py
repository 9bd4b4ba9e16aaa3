"""Retraining uses reviewer-confirmed documents only, and keeps the promotion rule."""
import json
from pathlib import Path

import pytest

from service import config
from service.db import AuditEntry, Department, Document, transaction
from service.retrain import SHIPPED_TRAINING_DATA, confirmed_records, retrain
from service.runtime import Runtime


@pytest.fixture
def rt(db_url, tmp_path):
    runtime = Runtime.from_settings(config.load({"database_url": db_url, "data_dir": str(tmp_path / "data"),
                                                 "models_dir": str(tmp_path / "models")}))
    with transaction(runtime.sessions) as s:
        s.add(Department(code="rsj", name="县人社局"))
    yield runtime
    runtime.close()


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
    confirmed = [add(rt, "approved", "人事任免", "其他", "审核员", 1), add(rt, "published", "人事任免", None, "审核员", 2)]
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
