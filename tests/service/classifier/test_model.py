"""The classifier: the shipped default model, predictions, rule hints, artifacts, versions."""
from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from classifier_helpers import small_result, training_records
from service.classifier import evaluation
from service.classifier import model as M
from service.classifier import artifact as A
from service import taxonomy as T
from service.config import PROJECT_ROOT
from service.classifier.store import ModelStore
from service.analysis.tokenizer import tokenize_document
from service.classifier.train import prepare


@pytest.fixture(scope="module")
def default_store() -> ModelStore:
    return ModelStore(PROJECT_ROOT / "models", T.load())


@pytest.fixture(scope="module")
def default_model(default_store) -> M.Classifier:
    return default_store.load()


@pytest.fixture(scope="module")
def test_split():
    records = [r for r in training_records() if r["split"] == "test"]
    data, _ = prepare(records, T.load())
    return data


def test_a_default_model_is_committed_active_and_loads(default_store, default_model):
    version = default_store.active_version()
    assert version and (default_store.root / version / A.CARD_FILE).is_file()
    assert default_model.name == f"county-default/{version}"
    assert default_model.taxonomy.fingerprint == default_model.metadata["taxonomy"]["fingerprint"]
    assert default_store.load() is default_model            # loaded once per process


def test_default_model_reproduces_its_recorded_source_disjoint_evaluation(default_model, test_split):
    """The artifact, reloaded, gives exactly the test figures its card reports."""
    predictions = default_model.predict_many(test_split.docs, test_split.texts, explain=False)
    report = evaluation.evaluate(list(test_split.y), predictions, default_model.taxonomy.names)
    recorded = default_model.metadata["evaluation"]["test"]
    assert report["macro_f1"] == recorded["macro_f1"]
    assert report["confident"] == recorded["confident"]
    assert report["accuracy"] >= 0.8
    assert recorded["confident"]["precision"] >= 0.95


def test_prediction_shape_and_abstention(default_model, test_split):
    for p in default_model.predict_many(test_split.docs[:30], test_split.texts[:30]):
        probs = [c["probability"] for c in p.candidates]
        assert len(p.candidates) == 3 and probs == sorted(probs, reverse=True)
        assert all(0.0 <= x <= 1.0 for x in probs) and sum(probs) <= 1.0 + 1e-3
        assert p.candidates[0]["category"] == p.top_category
        if p.needs_attention:
            assert p.category is None and p.confidence < p.threshold
        else:
            assert p.category == p.top_category and p.confidence >= p.threshold
        assert set(p.to_dict()) == {"category", "confidence", "candidates", "needs_attention", "model", "explanation"}


def test_pre_tokenized_input_gives_the_same_prediction_as_text(default_model):
    title, body = ("修水县人民政府办公室关于印发修水县处置重大森林火灾应急预案的通知",
                   "各乡镇人民政府：现将预案印发给你们。1 总则 1.1 编制目的")
    doc = tokenize_document(title, body)
    from_tokens = default_model.predict_tokens(doc.title, doc.body, doc.doc_type, doc.doc_number, doc.genre)
    from_text = default_model.predict_text(title, body)
    assert from_tokens.candidates == from_text.candidates
    assert from_text.category == "应急预案"
    terms = [t["term"] for t in from_text.explanation["terms"]]
    assert "应急预案" in terms
    weights = [t["weight"] for t in from_text.explanation["terms"]]
    assert weights == sorted(weights, reverse=True) and min(weights) > 0


def test_personnel_rule_hint_selects_the_category_and_says_so(default_model):
    title = "X县人民政府关于张三等同志职务任免的通知"
    body = "经县人民政府研究决定：任命张三为县教育局局长；免去李四县教育局局长职务。"
    p = default_model.predict_text(title, body)
    assert p.category == "人事任免" and not p.needs_attention
    assert {r["rule"] for r in p.explanation["rules"]} == {"personnel_title", "personnel_body"}
    # stored tokens (no text) still trigger the title rule
    doc = tokenize_document(title, body)
    assert default_model.predict_document(doc).top_category == "人事任免"
    # the model alone would not have chosen it: the rule is what decided, openly
    probs, _ = default_model.model_probabilities([doc])
    assert default_model.taxonomy.names[int(np.argmax(probs[0]))] != "人事任免"


def test_a_suggestion_its_own_rule_hint_confirms_has_the_lower_rule_threshold(default_model):
    rule_thresholds = default_model.rule_thresholds
    assert rule_thresholds and "人事任免" not in rule_thresholds      # not for the thin, rule-served class
    items = [("县民政局2026年工作要点", "今年重点做好以下工作。")]
    (p,) = default_model.predict_texts(items, explain=False)
    assert p.top_category == "规划计划" and [r["rule"] for r in p.explanation["rules"]] == ["plan_title"]
    assert rule_thresholds["规划计划"] <= p.confidence < default_model.thresholds["规划计划"]
    assert not p.needs_attention and p.category == "规划计划" and p.threshold == rule_thresholds["规划计划"]
    (bare,) = replace(default_model, rule_thresholds={}).predict_texts(items, explain=False)
    assert bare.confidence == p.confidence and bare.needs_attention and bare.category is None


def test_rule_confirmed_means_a_hint_for_that_very_category():
    hits = [T.RuleHit(rule="news_title", category="工作动态", weight=0.6, description="", matched="召开")]
    assert M.rule_confirmed(hits, "工作动态")
    assert not M.rule_confirmed(hits, "政策法规及规范性文件") and not M.rule_confirmed([], "工作动态")


def test_body_rule_alone_suggests_but_does_not_preselect(default_model):
    p = default_model.predict_text("石台县十三届人大常委会第四次会议召开",
                                   "会议决定任命张勇为石台县人民政府副县长职务。会议还审议了其他事项。")
    # a news title and an appointment sentence: both hints are named, neither decides alone
    assert sorted(r["rule"] for r in p.explanation["rules"]) == ["news_title", "personnel_body"]
    assert p.category != "人事任免"


def test_rule_weights_are_order_independent_and_conflicting_hints_share():
    def hit(category, weight):
        return T.RuleHit(f"r-{category}-{weight}", category, weight, "", "")
    names = ["甲", "乙", "丙"]
    probs = np.array([0.2, 0.3, 0.5])
    # one category: the documented mix (1 − w)·p + w
    assert np.allclose(M.apply_rules(probs, [hit("甲", 0.6)], names), [0.68, 0.12, 0.2])
    # two rules of one category reinforce: w = 1 − 0.4·0.5
    assert M.rule_weights([hit("甲", 0.6), hit("甲", 0.5)]) == pytest.approx({"甲": 0.8})
    # rules of two categories share the strongest weight in proportion, in any order
    a = M.apply_rules(probs, [hit("甲", 0.6), hit("乙", 0.6)], names)
    b = M.apply_rules(probs, [hit("乙", 0.6), hit("甲", 0.6)], names)
    assert np.allclose(a, b) and np.allclose(a, [0.38, 0.42, 0.2]) and a.sum() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    result = small_result()
    directory = tmp_path_factory.mktemp("models") / "county-default" / "2026.01.01-1"
    A.save(result.classifier, directory, result.metadata, "card")
    return directory


def test_skops_round_trip_gives_identical_probabilities(saved):
    result = small_result()
    loaded = A.load(saved, T.load())
    docs = [d for d in prepare(list(training_records())[:40], T.load())[0].docs]
    assert np.array_equal(loaded.model_probabilities(docs)[0], result.classifier.model_probabilities(docs)[0])
    with zipfile.ZipFile(saved / A.MODEL_FILE) as archive:
        assert "schema.json" in archive.namelist()
        assert not [n for n in archive.namelist() if n.endswith((".pkl", ".pickle"))]
    import skops.io as sio

    assert set(sio.get_untrusted_types(file=saved / A.MODEL_FILE)) <= set(A.TRUSTED_TYPES)


def _copy(saved, tmp_path):
    target = tmp_path / "county-default" / "2026.01.01-1"
    shutil.copytree(saved, target)
    return target


def _edit_metadata(directory, edit):
    path = directory / A.METADATA_FILE
    meta = json.loads(path.read_text(encoding="utf-8"))
    edit(meta)
    path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("edit, code", [
    (lambda m: m.update(format_version=99), "model_incompatible"),
    (lambda m: m.update(token_format=99), "model_incompatible"),
    (lambda m: m["libraries"].update({"scikit-learn": "0.24.2"}), "model_incompatible"),
    (lambda m: m["probes"][0]["probabilities"].__setitem__(0, 0.5), "model_incompatible"),
    (lambda m: m["taxonomy"].update(fingerprint="0" * 64), "taxonomy_mismatch"),
])
def test_incompatible_artifacts_fail_with_a_clear_error(saved, tmp_path, edit, code):
    directory = _copy(saved, tmp_path)
    _edit_metadata(directory, edit)
    with pytest.raises(M.ModelError) as err:
        A.load(directory, T.load())
    assert err.value.code == code
    assert err.value.message          # a Chinese sentence for the clerk


def test_a_different_taxonomy_is_refused(saved):
    raw = json.loads(T.default_path().read_text(encoding="utf-8"))
    raw["categories"][0]["name"] = "政务动态"
    with pytest.raises(M.TaxonomyMismatch) as err:
        A.load(saved, T.parse(raw))
    assert "重新训练" in err.value.message


def test_a_corrupt_or_untrusted_model_file_is_refused(saved, tmp_path):
    directory = _copy(saved, tmp_path)
    (directory / A.MODEL_FILE).write_bytes(b"not a zip")
    with pytest.raises(M.ModelIncompatible):
        A.load(directory, T.load())
    import skops.io as sio
    from sklearn.preprocessing import StandardScaler

    sio.dump({"format": A.ARTIFACT_FORMAT, "pipeline": StandardScaler()}, directory / A.MODEL_FILE)
    with pytest.raises(M.ModelUntrusted) as err:
        A.load(directory, T.load())
    assert "StandardScaler" in err.value.message


def test_missing_model_is_reported(tmp_path):
    store = ModelStore(tmp_path, T.load())
    with pytest.raises(M.ModelNotFound) as err:
        store.load()
    assert "gongkai train" in err.value.message


def test_activate_and_rollback_walk_the_version_history(saved, tmp_path):
    for name in ("2026.01.01-1", "2026.01.01-2", "2026.01.02-1"):
        shutil.copytree(saved, tmp_path / "county-default" / name)
    store = ModelStore(tmp_path, T.load())
    assert store.new_version_name() != "2026.01.01-1"
    for name in ("2026.01.01-1", "2026.01.01-2", "2026.01.02-1"):
        store.activate(name, reason="test")
    assert store.active_version() == "2026.01.02-1"
    assert store.rollback() == "2026.01.01-2"
    assert store.rollback() == "2026.01.01-1"
    with pytest.raises(M.ModelError):
        store.rollback()
    assert store.active_version() == "2026.01.01-1"
    assert [v.name for v in store.versions()] == ["2026.01.01-1", "2026.01.01-2", "2026.01.02-1"]
    assert [e["action"] for e in store.history()] == ["activate"] * 3 + ["rollback"] * 2
    with pytest.raises(M.ModelNotFound):
        store.activate("../../etc")


@pytest.mark.parametrize("candidate", ["linear_svc_c1", "logistic_regression_c30", "sgd_modified_huber",
                                       "complement_nb"])
def test_every_candidate_persists_with_trusted_types_only(candidate, tmp_path):
    """Whichever candidate wins, its artifact holds only explicitly trusted types."""
    from service.classifier import train as TR

    data, _ = prepare([r for r in training_records() if r["split"] == "train"][::6], T.load())
    pipeline = TR.make_pipeline(TR.candidates()[candidate]).fit(TR._rows(data), data.y)
    A.dump_pipeline(pipeline, tmp_path / A.MODEL_FILE)
    reloaded = A.load_pipeline(tmp_path / A.MODEL_FILE)
    X = TR._rows(data)
    assert np.allclose(M.decision_scores(reloaded[-1], reloaded[:-1].transform(X)),
                       M.decision_scores(pipeline[-1], pipeline[:-1].transform(X)))


def test_fast_feature_path_equals_scikit_learns_transform(default_model, test_split):
    from service.classifier import features as F

    X = default_model.rows(test_split.docs)
    fast = F.fast_transformers(default_model.pipeline[0])
    assert fast and [f.kind for f, _ in fast].count("words") == 2      # title and body bigrams coded
    ours, sklearns = F.transform(fast, X), default_model.pipeline[0].transform(X)
    assert ours.shape == sklearns.shape and (ours != 0).sum() == (sklearns != 0).sum()
    assert abs(ours - sklearns).max() < 1e-6


def test_fast_feature_path_handles_empty_fields_between_full_ones(default_model, test_split):
    from service.classifier import features as F
    from service.analysis.tokenizer import DocumentTokens

    full = test_split.docs[0]
    docs = [full, DocumentTokens((), (), None, None, ()), DocumentTokens((), full.body, None, None, ()), full]
    X = default_model.rows(docs)
    ours = F.transform(F.fast_transformers(default_model.pipeline[0]), X)
    sklearns = default_model.pipeline[0].transform(X)
    assert ours.shape == sklearns.shape and (ours != 0).sum() == (sklearns != 0).sum()
    assert abs(ours - sklearns).max() < 1e-6
    assert abs(ours[0] - ours[3]).max() == 0  # an empty row in between does not shift its neighbours


def test_fast_feature_path_never_pairs_the_last_word_of_one_document_with_the_first_of_the_next(default_model):
    from service.classifier import features as F
    from service.analysis.tokenizer import DocumentTokens

    body = next(vec for name, vec, _ in default_model.pipeline[0].transformers_ if name == "body_words")
    first, second = next(term for term in body.vocabulary_ if " " in term).split(" ")
    docs = [DocumentTokens(("通知",), ("工作", first), None, None, ()),
            DocumentTokens(("通知",), (second, "安排"), None, None, ())]
    X = default_model.rows(docs)
    ours = F.transform(F.fast_transformers(default_model.pipeline[0]), X)
    sklearns = default_model.pipeline[0].transform(X)
    assert (ours != 0).sum() == (sklearns != 0).sum() and abs(ours - sklearns).max() < 1e-6
    together = F.transform(F.fast_transformers(default_model.pipeline[0]),
                           default_model.rows([DocumentTokens(("通知",), (first, second), None, None, ())]))
    assert (together != 0).sum() > 0 and abs(together - default_model.pipeline[0].transform(
        default_model.rows([DocumentTokens(("通知",), (first, second), None, None, ())]))).max() < 1e-6


def test_fast_feature_path_never_joins_characters_of_two_documents(default_model):
    from service.classifier import features as F
    from service.analysis.tokenizer import DocumentTokens

    title = next(vec for name, vec, _ in default_model.pipeline[0].transformers_ if name == "title_chars")
    gram = next(term for term in title.vocabulary_ if len(term) == 3)
    fast = F.fast_transformers(default_model.pipeline[0])
    assert [f.kind for f, _ in fast].count("chars") == 2  # title and body-head characters coded
    apart = default_model.rows([DocumentTokens((gram[0],), ("工作",), None, None, ()),
                                DocumentTokens((gram[1:],), ("安排",), None, None, ())])
    joined = default_model.rows([DocumentTokens((gram[0], gram[1:]), ("工作",), None, None, ())])
    for X in (apart, joined):
        ours, sklearns = F.transform(fast, X), default_model.pipeline[0].transform(X)
        assert (ours != 0).sum() == (sklearns != 0).sum() and abs(ours - sklearns).max() < 1e-6
    column = fast.offsets[1] + title.vocabulary_[gram]
    assert F.transform(fast, joined)[0, column] > 0 and F.transform(fast, apart)[:, column].nnz == 0


def test_code_table_finds_exactly_the_codes_it_holds_even_when_their_slots_collide():
    from service.classifier.features import CodeTable

    rng = np.random.default_rng(7)
    codes = np.unique(rng.integers(0, 2 ** 62, size=5000, dtype=np.int64)).astype(np.uint64)
    table = CodeTable(codes.tolist(), range(len(codes)))
    home = (codes * np.uint64(0x9E3779B97F4A7C15)) >> table.shift
    assert len(np.unique(home)) < len(codes)  # some codes share a home slot: probing is exercised
    absent = codes + np.uint64(1)
    absent = absent[~np.isin(absent, codes)]
    assert (table.get(codes) == np.arange(len(codes))).all()
    assert (table.get(absent) == -1).all() and len(table) == len(codes)


@pytest.mark.parametrize("make", ["LogisticRegression", "LinearSVC", "SGDClassifier", "ComplementNB"])
def test_decision_scores_equal_the_estimators_own(make):
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(3)
    X = sparse.random(120, 300, density=0.05, format="csr", dtype=np.float32, random_state=3)
    y = rng.integers(0, 4, size=120)
    estimator = {"LogisticRegression": LogisticRegression, "LinearSVC": LinearSVC, "SGDClassifier": SGDClassifier,
                 "ComplementNB": ComplementNB}[make]().fit(X, y)
    own = estimator.decision_function(X) if make != "ComplementNB" else estimator.predict_log_proba(X)
    assert (M.linear_weights(estimator) is None) == (make == "ComplementNB")
    assert np.array_equal(M.decision_scores(estimator, X), np.asarray(own, dtype=np.float64))
    assert np.array_equal(M.decision_scores(estimator, X[5:6]), np.asarray(own[5:6], dtype=np.float64))


def test_what_the_model_can_judge_every_training_document_is_within_it():
    data, _ = prepare(training_records(), T.load())
    counts = [M.chinese_letters(doc) for doc in data.docs]
    assert all(M.out_of_scope(doc) is None for doc in data.docs)
    # with room to spare: the bounds are for empty and foreign-language files, not short notices
    assert min(c for c, _ in counts) >= 10 * M.MIN_CHINESE_CHARS
    assert min(c / (c + latin) for c, latin in counts) >= 2 * M.MIN_CHINESE_SHARE


@pytest.mark.parametrize("title, body, code", [
    ("附件1", "", "too_little_chinese"),
    ("Annual Report 2025", "This report covers the county's disclosure work. " * 3 + "附件：统计表",
     "mostly_not_chinese"),
    ("县民政局2026年工作要点", "今年重点做好以下工作。", None),                 # short, but Chinese
    ("关于印发《X县数据共享管理办法》的通知", "各乡镇人民政府：现将 API、HTTP 接口规范印发给你们。", None),
])
def test_out_of_scope_counts_chinese_characters_and_latin_letters(title, body, code):
    found = M.out_of_scope(tokenize_document(title, body))
    assert (found and found["code"]) == code
    if found:
        assert "请人工选择" in found["message"]


def test_chinese_letters_counts_code_points_not_bytes():
    from service.analysis.tokenizer import DocumentTokens
    doc = DocumentTokens(title=("ÀZaz@[`{", "一龥㐀䶵", "ｶ가"), body=("政", "x") * 400)
    # À, @, [, `, {, half-width kana and Hangul are neither; body counted to SCOPE_TOKENS only
    assert M.chinese_letters(doc) == (4 + M.SCOPE_TOKENS // 2, 3 + M.SCOPE_TOKENS // 2)


def test_a_word_bigram_whose_word_is_not_in_the_vocabulary_takes_the_exact_path():
    """A vectorizer whose vocabulary holds a bigram without one of its words (not what ``min_df``
    makes, but possible with ``max_features``): the fast path steps aside instead of failing."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from service.classifier import features as F

    docs = [["政务", "公开", "工作"], ["政务", "公开", "要点"], ["公开", "工作", "要点"]]
    vectorizer = TfidfVectorizer(analyzer=F.word_ngrams, lowercase=False, sublinear_tf=True).fit(docs)
    kept = {term: i for i, term in enumerate(t for t in sorted(vectorizer.vocabulary_) if t != "政务")}
    vectorizer.vocabulary_ = kept
    vectorizer.idf_ = vectorizer.idf_[: len(kept)]
    fast = F.FastTfidf(vectorizer)
    assert fast.kind == "generic"
    rows, ids = fast._occurrences(docs)
    expected = sorted((i, kept[t]) for i, doc in enumerate(docs) for t in F.word_ngrams(doc) if t in kept)
    assert sorted(zip(rows.tolist(), ids.tolist(), strict=True)) == expected and any(" " in t for t in kept)
