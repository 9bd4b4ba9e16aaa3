"""`gongkai classify / evaluate / train / models` end to end, on real documents."""
from __future__ import annotations

import json

import pytest

from classifier_helpers import subset, training_records
from service import taxonomy as T
from service.cli import main
from service.config import PROJECT_ROOT
from service.classifier.training_data import write_jsonl

DOCX = PROJECT_ROOT / "tests" / "data" / "docx" / "libreoffice_conversion.docx"


def _record(category: str, split: str = "test") -> dict:
    return next(r for r in training_records() if r["category"] == category and r["split"] == split and r.get("title"))


def _json_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


@pytest.fixture
def txt_files(tmp_path):
    files = {}
    for category in ("应急预案", "工作动态"):
        r = _record(category)
        path = tmp_path / f"{r['id']}.txt"
        path.write_text(f"{r['title']}\n\n{r['text']}", encoding="utf-8")
        files[category] = path
    return files


def test_classify_txt_and_docx_as_json(txt_files, capsys):
    paths = [txt_files["应急预案"], txt_files["工作动态"], DOCX]
    assert main(["classify", "--json", *map(str, paths)]) == 0
    records = _json_lines(capsys)
    assert [r["path"] for r in records] == list(map(str, paths))
    for r in records:
        assert {"path", "category", "confidence", "candidates", "needs_attention", "model", "explanation"} <= set(r)
        assert len(r["candidates"]) == 3 and r["model"].startswith("county-default/")
        assert (r["category"] is None) == r["needs_attention"]
    assert records[0]["candidates"][0]["category"] == "应急预案"
    assert records[1]["candidates"][0]["category"] == "工作动态"
    assert records[2]["candidates"][0]["category"] == "其他"      # a town's procurement document


def test_classify_human_output_and_a_missing_file(txt_files, tmp_path, capsys):
    assert main(["classify", str(txt_files["应急预案"]), str(tmp_path / "missing.txt")]) == 1
    out = capsys.readouterr().out
    assert "建议分类：应急预案" in out or "需要人工判断（最可能：应急预案" in out
    assert "候选：" in out and "依据：" in out
    assert "file_not_found" in out


def test_classify_human_output_keeps_one_line_per_reason_and_puts_metadata_in_words(tmp_path, capsys):
    """A rule matching across lines (经…研究决定：⏎任命…) stays on its line; 体裁 tokens read as words."""
    notice, plan = tmp_path / "任免.txt", tmp_path / "计划.txt"
    notice.write_text("长武县人民政府关于王明等同志职务任免的通知\n\n长政干任〔2025〕5号\n经县人民政府研究决定：\n"
                      "任命王明为县教育局副局长；\n免去李华的县农业农村局副局长职务。\n", encoding="utf-8")
    plan.write_text("山东省人工智能产业发展行动计划（2024—2026年）\n\n为抢抓人工智能发展的重大战略机遇，"
                    "加快人工智能产业发展，制定本行动计划。\n一、总体要求\n", encoding="utf-8")
    assert main(["classify", str(notice), str(plan)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(line.startswith(("✓", "    ")) for line in lines), lines
    assert any(line.startswith("    规则：正文开头是任免决定") and "研究决定： 任命王明为县教育局副局长；" in line
               for line in lines)
    assert "体裁属“计划”类（公文要素）" in out and "正文自称“本行动计划”（公文要素）" in out
    assert "体裁:" not in out and "体裁文:" not in out


def test_classify_refuses_a_model_trained_on_another_taxonomy(txt_files, tmp_path, monkeypatch, capsys):
    raw = json.loads(T.default_path().read_text(encoding="utf-8"))
    raw["categories"][0]["name"] = "政务动态"
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("GONGKAI_TAXONOMY_FILE", str(path))
    assert main(["classify", "--json", str(txt_files["应急预案"])]) == 2
    (record,) = _json_lines(capsys)
    assert record["error"]["code"] == "taxonomy_mismatch"


def test_evaluate_reports_accuracy_macro_f1_per_class_confusion_and_confident_share(tmp_path, capsys):
    data = tmp_path / "eval.jsonl"
    write_jsonl([{"title": r.get("title"), "text": r["text"], "category": r["category"]}
                 for r in training_records() if r["split"] == "test"], data)
    assert main(["evaluate", "--data", str(data), "--json"]) == 0
    (report,) = _json_lines(capsys)
    assert report["n"] == 78 and 0.8 <= report["accuracy"] <= 1.0
    assert report["per_class"]["应急预案"]["support"] == 6
    assert {"precision", "recall", "f1", "support"} <= set(report["per_class"]["办事指南"])
    assert sum(map(sum, report["confusion"]["matrix"])) == 78
    assert 0 < report["confident"]["coverage"] <= 1 and report["confident"]["precision"] >= 0.9
    iv = report["intervals"]                 # lines without a source: documents are resampled
    assert iv["method"] == "bootstrap over documents" and iv["units"] == 78
    assert iv["macro_f1"][0] <= report["macro_f1"] <= iv["macro_f1"][1]
    assert main(["evaluate", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "宏平均F1" in out and "95% 区间（自助法按文档重抽样 2000 次）" in out


def test_evaluate_resamples_by_source_when_lines_name_it(tmp_path, capsys):
    data = tmp_path / "eval.jsonl"
    test = [r for r in training_records() if r["split"] == "test"]
    write_jsonl(test, data)
    assert main(["evaluate", "--data", str(data), "--json"]) == 0
    (report,) = _json_lines(capsys)
    assert report["intervals"]["method"] == "bootstrap over source groups"
    assert report["intervals"]["units"] == len({r["group"] for r in test}) == 45


def test_evaluate_rejects_unknown_categories(tmp_path, capsys):
    data = tmp_path / "bad.jsonl"
    write_jsonl([{"text": "正文", "category": "不存在的分类"}], data)
    assert main(["evaluate", "--data", str(data)]) == 2
    assert "不存在的分类" in capsys.readouterr().err


def test_train_models_list_and_rollback(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    write_jsonl(subset(), data)
    confirmed = tmp_path / "confirmed.jsonl"
    r = _record("办事指南", "train")
    write_jsonl([dict(r, review_status="confirmed", split=None),
                 dict(r, category="其他", review_status="pending")], confirmed)
    out = tmp_path / "models"
    assert main(["train", "--data", str(data), "--confirmed", str(confirmed), "--out", str(out),
                 "--version", "2026.01.01-1", "--candidates", "linear_svc_c1,complement_nb", "--json"]) == 0
    first = _json_lines(capsys)[-1]
    assert first["promoted"] and (out / "county-default" / "ACTIVE").read_text().strip() == "2026.01.01-1"
    assert main(["train", "--data", str(data), "--confirmed", str(confirmed), "--out", str(out),
                 "--version", "2026.01.01-2", "--candidates", "linear_svc_c1,complement_nb", "--json"]) == 0
    second = _json_lines(capsys)[-1]          # same data: same macro-F1, so it is promoted
    assert second["promoted"] and second["previous_macro_f1"] == second["new_macro_f1"]
    assert main(["models", "--out", str(out), "--json"]) == 0
    listing = _json_lines(capsys)[-1]
    assert [v["version"] for v in listing["versions"]] == ["2026.01.01-1", "2026.01.01-2"]
    assert [v["active"] for v in listing["versions"]] == [False, True]
    assert main(["models", "rollback", "--out", str(out)]) == 0
    assert "2026.01.01-1" in capsys.readouterr().out
    assert (out / "county-default" / "ACTIVE").read_text().strip() == "2026.01.01-1"
    assert main(["models", "rollback", "--out", str(out)]) == 2        # nothing further back
    assert main(["models", "activate", "2026.01.01-2", "--out", str(out)]) == 0
    assert not (PROJECT_ROOT / "models" / "county-default" / "2026.01.01-1").exists()


def test_a_file_the_model_cannot_judge_is_not_preselected_and_the_clerk_is_told_why(capsys):
    english = PROJECT_ROOT / "tests" / "data" / "docx" / "paragraphs_and_tables.docx"
    empty = PROJECT_ROOT / "tests" / "data" / "docx" / "doc-coreprops.docx"
    assert main(["classify", "--json", str(english), str(empty)]) == 0
    first, second = _json_lines(capsys)
    assert first["explanation"]["abstained"]["code"] == "mostly_not_chinese"
    assert second["explanation"]["abstained"]["code"] == "too_little_chinese"
    for r in (first, second):
        # nothing pre-selected, no letter-pair "terms" offered as a reason; candidates still listed
        assert r["needs_attention"] and r["category"] is None and "terms" not in r["explanation"]
        assert len(r["candidates"]) == 3
    assert main(["classify", str(english)]) == 0
    out = capsys.readouterr().out
    assert "原因：文档以外文为主" in out and "依据：" not in out
