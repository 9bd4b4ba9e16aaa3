"""How bench/data/search_judged.jsonl was written (issue #24): the queries, and what reading each
candidate decided.

Each query was written by hand for the shared corpus. The candidates of a query — every corpus
document holding it, brackets, widths and case aside — were read in context (the sentence around
each place it stands), and judged:

- topical queries (a word, part of a word, a single character): every document where the
  string stands with its meaning is relevant; a document where the characters only meet by
  accident (低保 in 最低保修期限, 医保 in 中医保健, 鼠 in 鼠标) is excluded, with the reason;
- known-item queries (a title, a number, a 文号 whose document is in the corpus): the document(s)
  named, found by reading; a 文号 whose document is not in the corpus: the documents citing it.

    .venv/bin/python bench/data/judge_search.py      # rewrites bench/data/search_judged.jsonl
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from service.search_grams import normalized, runs  # noqa: E402

docs = {json.loads(line)["id"]: json.loads(line)
        for line in (ROOT.parent / "shared" / "corpus" / "documents.jsonl").read_text(encoding="utf-8").splitlines()}
def full(d): return (d["title"] or "") + "\n" + d["text"]
def containing(q):
    rs = runs(q)
    return [i for i, d in docs.items() if all(r in normalized(full(d))[0] for r in rs)]

# (kind, query, how judged, excluded-or-explicit)
TOPICAL = "topical: every document where it stands with its meaning"
Q = [
 ("word", "防汛", TOPICAL, {}), ("word", "河长制", TOPICAL, {}), ("word", "乡村振兴", TOPICAL, {}),
 ("word", "营商环境", TOPICAL, {}), ("word", "垃圾分类", TOPICAL, {}), ("word", "食品安全", TOPICAL, {}),
 ("word", "疫情防控", TOPICAL, {}), ("word", "义务教育", TOPICAL, {}), ("word", "政务公开", TOPICAL, {}),
 ("word", "应急预案", TOPICAL, {}), ("word", "安全生产", TOPICAL, {}), ("word", "人工智能", TOPICAL, {}),
 ("part", "任免", TOPICAL, {}),
 ("part", "低保", TOPICAL, {"lawref-605d85e704dd": "最低保修期限", "lawref-a3ec04fb438a": "降低保险费"}),
 ("part", "采砂", TOPICAL, {}), ("part", "备汛", TOPICAL, {}), ("part", "残疾人证", TOPICAL, {}),
 ("part", "秸秆", TOPICAL, {}), ("part", "地面沉降", TOPICAL, {}), ("part", "汛期", TOPICAL, {}),
 ("part", "医保", TOPICAL, {"gwr-prov2026-4c8909ab": "中医保健"}), ("part", "禁烧", TOPICAL, {}),
 ("part", "督导", TOPICAL, {}), ("part", "调度会", TOPICAL, {}),
 ("char", "汛", TOPICAL, {}), ("char", "蝗", TOPICAL, {}), ("char", "涝", TOPICAL, {}), ("char", "堤", TOPICAL, {}),
 ("char", "雹", TOPICAL, {}), ("char", "霾", TOPICAL, {}), ("char", "塌", TOPICAL, {}),
 ("char", "鼠", TOPICAL, {"polxlsx-fb59ccdfe833": "鼠标", "polxlsx-14638017a69d": "鼠标巡逻"}),
]
KNOWN = "known item: the document(s) named, found by reading"
K = [
 ("docno", "劳社部发〔2008〕3号", ["lawref-f9873c567304"], "the notice itself; its text writes [2008]"),
 ("docno", "国办发[2022]9号", ["polxlsx-f65e316c7e61"], "cited in the opening"),
 ("docno", "国发〔2017〕35号", None, "every document implementing or citing it (the plan itself is not in the corpus)"),
 ("docno", "国发〔2014〕64号", None, "citing documents"),
 ("docno", "建市〔2020〕60号", None, "citing documents"),
 ("docno", "交规划发〔2011〕192号", None, "citing documents"),
 ("docno", "商流通函〔2014〕790号", None, "citing documents; the text writes [2014]"),
 ("docno", "中发〔2014〕4号", None, "citing documents"),
 ("docno", "教师函〔2021〕13号", None, "citing documents"),
 ("docno", "民函〔2021〕742号", None, "citing documents"),
 ("docno", "工信部联规〔2016〕349号", None, "citing documents"),
 ("docno", "科技发展函〔2021〕182号", None, "citing documents"),
 ("docno", "人社部发〔2021〕73号", None, "the text mixes its brackets: 〔2021)"),
 ("docno", "国办发〔2020〕20号", None, "the text mixes its brackets: 〔2020]"),
 ("number", "18320", ["pages-a293d9d134aa"], "农村居民人均可支配收入18320元"),
 ("number", "41580元", ["gwr-prov2026-9bf8cb4d"], "全体居民人均可支配收入"),
 ("number", "24000亿元", None, "the text writes full-width digits ２４０００"),
 ("number", "37698", ["polxlsx-1a60c2dabca4"], "GB/T 37698-2019"),
 ("number", "0377-67985978", ["thin-4e9dcf92a6d4"], "an office's consultation line (public)"),
 ("number", "71500公里", None, "营运里程"),
 ("number", "15500亿元", None, "full-width digits in the text"),
 ("number", "bgs01/2023-00011", ["thin-6e2274e73926"], "an index number (索引号)"),
 ("number", "20142423", ["polxlsx-1d108dd6424c"], "a standard's plan number"),
 ("number", "65969", None, "营运里程由65969公里"),
 ("title", "信阳市河道采砂管理条例", ["lawref-a125aeb0b633"], KNOWN),
 ("title", "地面沉降防治管理条例", ["lawref-22c5b5972c77"], KNOWN),
 ("title", "临时救助办事指南", ["thin-edbf0f6e2250"], KNOWN),
 ("title", "天全县联合督察秸秆禁烧情况", ["thin-c18444bec1cd"], KNOWN),
 ("title", "如东镇部署灾害性天气防御工作", ["thin-c8d200e4c2fd"], KNOWN),
 ("title", "职工全年月平均工作时间和工资折算问题", ["lawref-f9873c567304"], KNOWN),
 ("title", "第二代残疾人证申请转报办理指南", ["pages-3b832593deb6"], KNOWN),
 ("title", "新县2014年防汛抗旱应急预案", ["pages-49feea04b0cf"], KNOWN),
 ("title", "遂川县防汛抗旱应急预案", ["pages-c22f3f746cb5"], KNOWN),
 ("title", "2019 政府工作报告", ["gwr-national-011-2019", "pages-b824ef1d3cc1", "thin-909431686fdd"],
  "the government work reports of 2019: national, 浮山县 (2019年3月2日), 魏庄镇 (2018 report and 2019 plan)"),
 ("title", "涔南镇严防死守确保安全度过汛期", ["pages-46b29bae0ad7"], KNOWN),
 ("title", "蔡牛镇召开防汛工作调度会", ["pages-7e2736c9dabc"], KNOWN),
 ("title", "建设项目选址意见书核发办事指南", ["thin-4e9dcf92a6d4"], KNOWN),
 ("title", "中华人民共和国水法", ["lawref-b0e3cb4f3e6b"], KNOWN),
]
out = []
for kind, q, how, excluded in Q:
    cands = containing(q)
    for e in excluded:
        assert e in cands, (q, e)
    out.append({"query": q, "kind": kind, "relevant": sorted(c for c in cands if c not in excluded),
                "excluded": excluded, "judged": how})
for kind, q, rel, note in K:
    if rel is None:
        rel = sorted(containing(q))
    out.append({"query": q, "kind": kind, "relevant": rel, "excluded": {}, "judged": note})
for r in out:
    assert r["relevant"], r["query"]
with open(ROOT / "bench" / "data" / "search_judged.jsonl", "w", encoding="utf-8") as f:
    for r in out:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
KINDS = ("word", "part", "char", "docno", "number", "title")
print(len(out), "queries", {k: sum(1 for r in out if r["kind"] == k) for k in KINDS})
