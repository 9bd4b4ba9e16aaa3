"""Taxonomy as data: the nine local categories, the Art. 20 facet, fingerprints, rule hints."""
from __future__ import annotations

import copy
import json

import pytest

from service import taxonomy as T
from service.config import PROJECT_ROOT
from service.normalize import analysis_form
from service.text import find_doc_number
from service.trainingdata import read_jsonl

NINE = ["工作动态", "政策法规及规范性文件", "规划计划", "机构职能", "人事任免", "办事指南", "应急预案", "政府工作报告", "其他"]


@pytest.fixture(scope="module")
def default():
    return T.load()


@pytest.fixture
def raw():
    return json.loads(T.default_path().read_text(encoding="utf-8"))


def test_default_taxonomy_has_the_seed_reports_nine_categories(default, seed_text):
    assert default.names == NINE
    assert len({c.code for c in default.categories}) == 9
    assert all(c.description and c.code.isascii() for c in default.categories)
    # the county annual report counts exactly these categories
    for name in NINE:
        assert name.replace("及规范性文件", "") in seed_text.replace(" ", "")


def test_article_20_facet_lists_fifteen_items_and_maps_local_categories(default):
    assert sorted(default.art20_items) == list(range(1, 16))
    assert default.art20_items[12].startswith("突发公共事件的应急预案")
    assert default.categories_for_item(1) == ["政策法规及规范性文件"]
    assert default.categories_for_item(12) == ["应急预案"]
    assert [i["item"] for i in default.art20_for("机构职能")] == [2]
    assert default.art20_for("工作动态") == []          # no Art. 20 item for news


def test_fingerprint_ignores_descriptions_but_not_labels_or_rules(raw):
    base = T.parse(raw).fingerprint
    edited = copy.deepcopy(raw)
    edited["categories"][0]["description"] = "另一种说法"
    edited["art20"]["items"][0]["text"] = "改写"
    assert T.parse(edited).fingerprint == base
    renamed = copy.deepcopy(raw)
    renamed["categories"][0]["name"] = "政务动态"
    assert T.parse(renamed).fingerprint != base
    added = copy.deepcopy(raw)
    added["categories"].append({"code": "budget", "name": "财政预决算", "description": "预算决算"})
    assert T.parse(added).fingerprint != base
    rule = copy.deepcopy(raw)
    rule["categories"][4]["rules"][0]["weight"] = 0.8
    assert T.parse(rule).fingerprint != base


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["categories"].append(dict(d["categories"][0])), "重复"),
    (lambda d: d["categories"][0].update(art20=[16]), "第二十条"),
    (lambda d: d.update(fallback="不存在"), "fallback"),
    (lambda d: d["categories"][4]["rules"][0].update(pattern="(未闭合"), "正则"),
    (lambda d: d["categories"][4]["rules"][0].update(field="author"), "field"),
    (lambda d: d.update(id="有空格 的id"), "id"),
])
def test_invalid_taxonomies_are_refused_with_a_clear_message(raw, mutate, message):
    mutate(raw)
    with pytest.raises(T.TaxonomyError) as err:
        T.parse(raw)
    assert message in err.value.message


def test_a_deployment_taxonomy_file_is_loaded_and_a_missing_one_reported(tmp_path, raw):
    raw["id"] = "my-county"
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    assert T.load(str(path)).id == "my-county"
    with pytest.raises(T.TaxonomyNotFound) as err:
        T.load(str(tmp_path / "nope.json"))
    assert err.value.code == "taxonomy_not_found"


@pytest.mark.parametrize("title", [
    "X县人民政府关于张三等同志职务任免的通知",
    "关于李四同志任职的通知",
    "关于王五免职的通知",
    "关于免去赵六同志职务的通知",
    "关于任命钱七同志为县发展和改革局局长的通知",
    "關于提請決定任免國務院若干組成人員的議案(1958年)",
])
def test_personnel_title_rule_fires_on_appointment_notices(default, title):
    hits = default.match_rules(analysis_form(title))
    assert [h.rule for h in hits] == ["personnel_title"]
    assert hits[0].category == "人事任免"


@pytest.mark.parametrize("title", [
    "关于做好人事任免信息公开工作的通知",
    "关于规范聘任人员管理工作的通知",
    "关于印发《干部任免工作规定》的通知",
    "县人民政府关于印发县干部任职试用期管理办法的通知",
])
def test_personnel_title_rule_ignores_notices_about_personnel_work(default, title):
    assert default.match_rules(title) == []


def test_doc_number_and_body_rules(default):
    hits = default.match_rules("通知", "经县人民政府研究决定：任命张三为县教育局局长；免去李四县教育局局长职务。",
                               "长政干任〔2025〕5号")
    assert {h.rule for h in hits} == {"personnel_doc_number", "personnel_body"}


def test_title_rule_fires_on_no_other_real_document(default):
    """Across the real training documents the title rule fires only on the 人事任免 one."""
    fired = []
    for r in read_jsonl(PROJECT_ROOT / "models" / "training" / "documents.jsonl"):
        if not r.get("title"):
            continue
        body = analysis_form(r["text"])
        hits = default.match_rules(analysis_form(r["title"]), body, find_doc_number(body[:600]))
        if any(h.rule == "personnel_title" for h in hits):
            fired.append(r["category"])
    assert fired == ["人事任免"]
