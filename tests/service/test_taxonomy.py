"""Taxonomy as data: the nine local categories, the Art. 20 facet, fingerprints, rule hints."""
from __future__ import annotations

import copy
import json

import pytest

from service import taxonomy as T
from service.config import PROJECT_ROOT
from service.analysis.normalize import analysis_form
from service.analysis.tokenizer import find_doc_number, guess_title
from service.classifier.training_data import read_jsonl

NINE = ["工作动态", "政策法规及规范性文件", "规划计划", "机构职能", "人事任免", "办事指南", "应急预案", "政府工作报告",
        "其他"]


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


@pytest.mark.parametrize("title, category", [
    ("县长张三到城关镇调研春耕生产", "工作动态"),
    ("县人民政府召开第十二次常务会议", "工作动态"),
    ("县人民政府办公室关于印发《县政府投资项目管理办法》的通知", "政策法规及规范性文件"),
    ("县城市道路挖掘管理暂行办法", "政策法规及规范性文件"),
    ("某镇2025年工作要点", "规划计划"),
    ("县国民经济和社会发展第十五个五年规划纲要", "规划计划"),
    ("县农业农村局主要职责和内设机构", "机构职能"),
    ("副县长工作分工", "机构职能"),
    ("不动产登记办事指南", "办事指南"),
    ("最低生活保障申请办理流程", "办事指南"),
    ("县人民政府办公室关于印发县森林火灾应急预案的通知", "应急预案"),
    ("2025年县人民政府工作报告", "政府工作报告"),
    ("县人民政府2024年政府信息公开工作年度报告", "其他"),
    ("县财政局2025年部门预算公开说明", "其他"),
    ("某镇卫生院医疗设备采购项目中标公告", "其他"),
])
def test_each_category_has_a_title_rule(default, title, category):
    hits = default.match_rules(analysis_form(title))
    assert [h.category for h in hits] == [category]


@pytest.mark.parametrize("title, not_this", [
    ("县人民代表大会讨论政府工作报告", "政府工作报告"),       # news about the report, not the report
    ("中华人民共和国政府采购法", "其他"),                    # a law, not a procurement notice
    ("中华人民共和国城乡规划法", "规划计划"),                # a law, not a plan
    ("县政府召开应急预案修订工作会议", "应急预案"),          # news about the plan, not the plan
    ("县农机事务中心政府信息公开指南", "办事指南"),          # 其他, not 办事指南
    ("县政府关于开展安全生产大检查的通知", "工作动态"),      # a notice, not news
])
def test_title_rules_skip_their_false_friends(default, title, not_this):
    assert not_this not in {h.category for h in default.match_rules(analysis_form(title))}


def test_title_rules_agree_with_every_real_label_they_fire_on(default):
    """Across the 481 real training documents, each title rule fires only on its own category."""
    disagreements = []
    for r in read_jsonl(PROJECT_ROOT / "models" / "training" / "documents.jsonl"):
        body = analysis_form(r["text"])
        title = analysis_form(r["title"]) if r.get("title") else guess_title(body)
        for hit in default.match_rules(title, body, find_doc_number(body[:600])):
            if hit.rule.endswith("_title") and hit.category != r["category"]:
                disagreements.append((hit.rule, r["category"], title))
    assert disagreements == []
