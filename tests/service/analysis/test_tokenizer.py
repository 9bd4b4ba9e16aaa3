"""Tokenizer: engines agree, dictionary words stay whole, filters behave, tokens round-trip."""
from __future__ import annotations

import pytest

from service.analysis import tokenizer as T
from service.config import PROJECT_ROOT
from service.analysis.normalize import analysis_form
from service.classifier.training_data import read_jsonl

TRAINING = PROJECT_ROOT / "models" / "training" / "documents.jsonl"


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    """Real documents from every source in the training data, plus the seed annual report."""
    records = read_jsonl(TRAINING)
    by_source: dict[str, list[dict]] = {}
    for r in records:
        by_source.setdefault(r["source"], []).append(r)
    picked = [r for rs in by_source.values() for r in rs[:15]]
    return [analysis_form((r.get("title") or "") + "\n" + r["text"]) for r in picked]


@pytest.fixture(scope="module")
def engines():
    pytest.importorskip("rjieba")
    return T.Tokenizer("rjieba"), T.Tokenizer("jieba")


def test_rjieba_and_jieba_segment_identically_with_the_user_dictionary(engines, corpus_texts, seed_text):
    rjieba, jieba = engines
    texts = corpus_texts + [analysis_form(seed_text)]
    assert sum(len(t) for t in texts) > 200_000       # a real amount of text, every source
    for text in texts:
        assert rjieba.segment(text) == jieba.segment(text)
        assert rjieba.tokens(text, analysed=True) == jieba.tokens(text, analysed=True)


@pytest.mark.parametrize("word", ["政府信息公开", "规范性文件", "发文字号", "应急预案", "人事任免", "政务服务",
                                  "办事指南", "突发公共事件", "职务任免"])
def test_dictionary_words_stay_whole_in_both_engines(engines, word):
    sentence = f"县人民政府关于{word}工作的通知"
    for engine in engines:
        assert word in engine.segment(sentence), engine.engine


def test_jieba_alone_would_split_the_domain_words():
    import jieba

    # Without our dictionary jieba's default splits them: the reason the dictionary exists.
    assert jieba.lcut("政府信息公开", HMM=False) != ["政府信息公开"]
    assert jieba.lcut("应急预案", HMM=False) != ["应急预案"]


def test_filters_keep_single_characters_drop_stop_words_punctuation_and_fold_numbers():
    tokens = T.get_tokenizer().tokens("第3条 县、镇的《办法》自2024年1月1日起施行。")
    assert "县" in tokens and "镇" in tokens and "条" in tokens      # single characters kept
    assert "的" not in tokens                                        # stop word
    assert not any(t in {"、", "《", "》", "。", " "} for t in tokens)  # punctuation and spaces
    assert "2024" not in tokens and T.NUMBER_TOKEN in tokens          # numbers folded


def test_single_character_tokens_survive_where_sklearns_default_pattern_drops_them():
    import re

    tokens = T.get_tokenizer().tokens("县政府令第5号：镇、乡、村各一份")
    default_pattern = re.compile(r"(?u)\b\w\w+\b")   # scikit-learn's token_pattern
    singles = [t for t in tokens if len(t) == 1 and t != T.NUMBER_TOKEN]
    assert singles and all(not default_pattern.fullmatch(t) for t in singles)


def test_traditional_characters_are_simplified_before_segmentation():
    trad = T.get_tokenizer().tokens("關於印發績溪縣防汛抗旱應急預案的通知")
    simp = T.get_tokenizer().tokens("关于印发绩溪县防汛抗旱应急预案的通知")
    assert trad == simp
    assert "应急预案" in trad


def test_document_tokens_round_trip_and_carry_metadata():
    doc = T.tokenize_document("关于印发《X县地震应急预案》的通知",
                              "修政办发〔2024〕12号\n各乡镇人民政府：现将《X县地震应急预案》印发给你们。")
    assert doc.doc_type == "通知"
    assert doc.doc_number == "修政办发〔2024〕12号"
    assert "体裁:预案" in doc.genre
    assert T.DocumentTokens.from_dict(doc.to_dict()) == doc


def test_missing_title_is_guessed_from_a_title_like_first_line():
    assert (T.guess_title("新一代信息技术产业行动计划（2024-2025年）\n一、总体目标")
            == "新一代信息技术产业行动计划（2024-2025年）")
    assert T.guess_title("各市人民政府，各县（市、区）人民政府：\n为……") is None
    assert T.guess_title("一、总体要求\n（一）指导思想") is None
    doc = T.tokenize_document(None, "新一代信息技术产业行动计划（2024-2025年）\n一、总体目标")
    assert "行动计划" in doc.title and "体裁:计划" in doc.genre


@pytest.mark.parametrize("title, expected", [
    ("X县人民政府关于张三等同志职务任免的通知", "通知"),
    ("关于提请决定任免国务院若干组成人员的议案(1958年)", "议案"),
    ("X县防汛抗旱应急预案", None),
    ("第十四届全国人民代表大会第三次会议关于政府工作报告的决议", "决议"),
])
def test_doc_type_is_read_from_the_title_ending(title, expected):
    assert T.doc_type_from_title(title) == expected


def test_genre_reads_what_the_document_calls_itself():
    assert T.genre_of("", "为加快推进数字山东建设，制定本行动方案。") == ("体裁文:行动方案", "体裁:方案")
    assert T.genre_of("关于印发《X县政府投资项目管理办法》的通知", "") == ("体裁题:管理办法", "体裁:办法")
    # 《》 that is not being issued names another document, not this one
    assert not any(g.startswith("体裁题:政府工作报告") for g in T.genre_of("县长就《政府工作报告》征求意见", ""))


def test_the_seed_report_segments_its_disclosure_vocabulary(seed_text):
    tokens = T.get_tokenizer().tokens(seed_text)
    for word in ("政府信息公开", "应急预案", "人事任免", "办事指南", "工作动态"):
        assert word in tokens
