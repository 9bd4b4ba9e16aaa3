"""Explanations: feature contributions handed to the document's words."""
from __future__ import annotations

import numpy as np
import pytest

from classifier_helpers import training_records
from service.classifier import explanation as E
from service import taxonomy as T
from service.config import PROJECT_ROOT
from service.classifier.store import ModelStore
from service.analysis.tokenizer import DocumentTokens
from service.classifier.train import prepare


@pytest.fixture(scope="module")
def default_model():
    return ModelStore(PROJECT_ROOT / "models", T.load()).load()


@pytest.fixture(scope="module")
def test_split():
    data, _ = prepare([r for r in training_records() if r["split"] == "test"], T.load())
    return data


def test_a_character_ngram_goes_to_the_words_it_overlaps():
    doc = DocumentTokens(title=("工作", "报告"), body=("各位", "代表", "报告", "工作"))
    names = ["title_chars__作报", "title_words__工作 报告", "body_head_chars__报告", "meta__文号"]
    push = np.array([0.4, 1.0, 0.6, 0.3])
    got = E.word_contributions(E.FeatureWords.of(names), np.arange(len(names)), push, doc)
    # 作报 spans the last character of 工作 and the first of 报告: half each; the bigram half each
    assert got[("title", "工作")] == pytest.approx(0.2 + 0.5)
    assert got[("title", "报告")] == pytest.approx(0.2 + 0.5)
    # 报告 occurs once in the body head (报告 and 告工 … are other n-grams): all of it to 报告
    assert got[("body", "报告")] == pytest.approx(0.6)
    assert got[("metadata", "文号")] == pytest.approx(0.3)
    assert sum(got.values()) == pytest.approx(push.sum())


def test_an_ngram_occurring_twice_is_split_over_its_occurrences():
    doc = DocumentTokens(title=(), body=("应急", "预案", "修订", "应急预案"))
    got = E.word_contributions(E.FeatureWords.of(["body_head_chars__急预"]), np.array([0]), np.array([1.0]), doc)
    got = {key: amount for key, amount in got.items() if amount}
    # two occurrences: 应急|预案 (a quarter each) and inside 应急预案 (a half)
    assert got == {("body", "应急"): pytest.approx(0.25), ("body", "预案"): pytest.approx(0.25),
                   ("body", "应急预案"): pytest.approx(0.5)}


def test_top_words_are_positive_readable_and_strongest_first():
    doc = DocumentTokens(title=("关于", "印发", "#", "的", "通知"), body=("经费", "100", "元"))
    names = ["title_words__印发", "title_words__#", "title_words__通知", "title_words__关于", "meta__元",
             "body_words__元"]
    push = np.array([0.5, 0.9, -0.2, 0.1, 2.0, 0.3])
    # punctuation, pushes against and the metadata placeholder 元 are left out; the body word 元 is not
    assert E.top_words(E.FeatureWords.of(names), np.arange(len(names)), push, doc, n=5) == [
        {"term": "印发", "field": "title", "weight": 0.5}, {"term": "元", "field": "body", "weight": 0.3},
        {"term": "关于", "field": "title", "weight": 0.1}]


def test_many_documents_at_once_give_what_each_gives_alone(default_model, test_split):
    docs, texts = test_split.docs[:40], test_split.texts[:40]
    together = default_model.predict_many(docs, texts)
    alone = [default_model.predict_many([d], [t])[0] for d, t in zip(docs, texts, strict=True)]
    assert [p.explanation["terms"] for p in together] == [p.explanation["terms"] for p in alone]
    assert all(p.explanation["terms"] for p in together)


def test_metadata_tokens_are_put_in_words():
    assert E.term_label("体裁题:应急预案", "metadata") == "标题自称“应急预案”"
    assert E.term_label("体裁文:行动计划", "metadata") == "正文自称“本行动计划”"
    assert E.term_label("文号:任", "metadata") == "发文字号含“任”（任免文号）"
    assert E.term_label("体裁:计划", "title") == "体裁:计划"   # a word is shown as it is


def test_every_term_the_model_gives_is_a_word_of_the_document(default_model, test_split):
    predictions = default_model.predict_many(test_split.docs, test_split.texts)
    explained = 0
    for doc, prediction in zip(test_split.docs, predictions, strict=False):
        terms = prediction.explanation.get("terms", [])
        explained += bool(terms)
        assert len({(t["field"], t["term"]) for t in terms}) == len(terms)
        weights = [t["weight"] for t in terms]
        assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
        for t in terms:
            words = {"title": doc.title, "body": doc.body}.get(t["field"])
            if words is None:
                assert t["field"] == "metadata"
            else:
                assert t["term"] in words, (t, doc.title)
    assert explained == len(test_split.docs)


def test_removing_the_explained_words_moves_the_model_more_than_removing_other_words(default_model, test_split):
    """A deletion check of faithfulness: without its three top words a document's probability
    for its suggestion falls further than without three other words of the same field."""
    rng = np.random.default_rng(0)
    probs, _ = default_model.model_probabilities(test_split.docs)
    predictions = default_model.predict_many(test_split.docs, test_split.texts)
    names = default_model.taxonomy.names

    def without(doc: DocumentTokens, words: list[tuple[str, str]]) -> DocumentTokens:
        drop_title = {w for f, w in words if f == "title"}
        drop_body = {w for f, w in words if f == "body"}
        return DocumentTokens(tuple(t for t in doc.title if t not in drop_title),
                              tuple(t for t in doc.body if t not in drop_body), doc.doc_type, doc.doc_number, doc.genre)

    explained_drop, other_drop = [], []
    for doc, p, before in zip(test_split.docs, predictions, probs, strict=False):
        top = [(t["field"], t["term"]) for t in p.explanation["terms"] if t["field"] != "metadata"][:3]
        pool = sorted({("title", w) for w in doc.title} | {("body", w) for w in doc.body[:200]} - set(top))
        others = [pool[k] for k in rng.choice(len(pool), size=min(len(top), len(pool)), replace=False)]
        j = names.index(p.top_category)
        after, _ = default_model.model_probabilities([without(doc, top), without(doc, others)])
        explained_drop.append(before[j] - after[0][j])
        other_drop.append(before[j] - after[1][j])
    assert np.mean(explained_drop) > 5 * max(np.mean(other_drop), 0.005)
