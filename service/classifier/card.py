"""The human-readable model card (``card.md``), rendered from a model's metadata."""
from __future__ import annotations

from typing import Any

from service.classifier import features as F

GOALS = {"macro_f1": 0.93, "confident_precision": 0.98, "confident_coverage": 0.85}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _per_class_table(report: dict[str, Any]) -> list[str]:
    rows = ["| category | precision | recall | F1 | support | predicted |", "|---|---:|---:|---:|---:|---:|"]
    for label, m in report["per_class"].items():
        note = " (not measurable: no documents)" if not m["support"] else ""
        rows.append(f"| {label}{note} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                    f"{m['support']} | {m['predicted']} |")
    return rows


def _confusion(report: dict[str, Any]) -> list[str]:
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    rows = ["| actual \\ predicted | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    rows += [f"| {label} | " + " | ".join(str(v) for v in row) + " |"
             for label, row in zip(labels, matrix, strict=True)]
    return rows


def _headline(name: str, report: dict[str, Any]) -> list[str]:
    c = report["confident"]
    return [f"- **{name}**: {report['n']} documents, accuracy {report['accuracy']:.3f}, "
            f"macro-F1 **{report['macro_f1']:.3f}** (over {len(report['macro_f1_labels'])} categories present); "
            f"confident share: coverage **{c['coverage']:.3f}** ({c['n']} documents), "
            f"precision **{c['precision']:.3f}** "
            f"({c['errors']} error{'' if c['errors'] == 1 else 's'}); ECE {report['calibration']['ece']:.3f}."
            + _interval_note(report)]


def _interval_note(report: dict[str, Any]) -> str:
    iv = report.get("intervals") or {}
    if not iv.get("macro_f1"):
        return ""
    span = {k: "–" if not iv.get(k) else f"{iv[k][0]:.3f}–{iv[k][1]:.3f}"
            for k in ("macro_f1", "confident_precision", "confident_coverage")}
    return (f" {iv['level']:.0%} bootstrap intervals over {iv['units']} "
            f"{'sources' if 'group' in iv['method'] else 'documents'}: macro-F1 {span['macro_f1']}, "
            f"coverage {span['confident_coverage']}, precision {span['confident_precision']}.")


def goal_figures(report: dict[str, Any]) -> dict[str, float]:
    """What an evaluation report (``service.classifier.evaluation.evaluate``) measured for each of ``GOALS``."""
    return {"macro_f1": report["macro_f1"], "confident_precision": report["confident"]["precision"],
            "confident_coverage": report["confident"]["coverage"]}


def _goals(test: dict[str, Any] | None) -> list[str]:
    if not test:
        return ["No test split was given, so the goals could not be checked."]
    got = goal_figures(test)
    iv = test.get("intervals") or {}
    lines = ["| goal | target | measured | 95 % interval | gap |", "|---|---:|---:|---:|---:|"]
    for key, target in GOALS.items():
        gap = got[key] - target
        span, where = "–", ""
        if iv.get(key):
            low, high = iv[key]
            span = f"{low:.3f}–{high:.3f}"
            where = (" (target above the interval)" if target > high else " (target below the interval)"
                     if target < low else " (target inside the interval)")
        lines.append(f"| {key.replace('_', ' ')} | ≥ {target:.2f} | {got[key]:.3f} | {span} | "
                     f"{('met' if gap >= 0 else f'{gap:+.3f}') + where} |")
    if iv:
        unit = "source groups" if "group" in iv["method"] else "documents"
        lines += ["", f"Intervals: percentile bootstrap, {iv['resamples']} resamples of the test split's "
                      f"{iv['units']} {unit}" + (" (whole sources are drawn: documents of one source are alike, "
                                                  "so drawing them one by one would understate the uncertainty)."
                                                  if unit == "source groups" else ".")]
    return lines


def render(meta: dict[str, Any], version: str) -> str:
    data = meta["training_data"]
    cand = meta["candidates"]
    evaluation = meta.get("evaluation", {})
    test, val = evaluation.get("test"), evaluation.get("validation")
    counts = data["counts"]
    categories = sorted({c for split in counts.values() for c in split})
    lines = [
        f"# Model card: disclosure classifier `{meta['taxonomy']['id']}/{version}`", "",
        "## Intended use",
        "Suggests the 政府信息公开 category of a document a clerk uploads (taxonomy "
        f"“{meta['taxonomy'].get('name', meta['taxonomy']['id'])}”, "
        f"fingerprint `{meta['taxonomy']['fingerprint'][:16]}`). "
        "A reviewer confirms every suggestion. Below its category's threshold the document is "
        "`needs_attention` and no category is pre-selected. It is not meant to decide disclosure "
        "on its own, nor to judge whether a document may be disclosed at all (密级, privacy).", "",
        "## Data",
        f"{data['records']} labelled documents (training-data hash `{data['hash'][:16]}`), real public "
        "government documents from `models/training/documents.jsonl` (see its README for provenance), "
        "plus any reviewer-confirmed documents. National legislation and each central/provincial policy "
        "issuer are capped so they do not swamp county-style documents. Texts longer than 6,000 "
        f"characters are stored truncated; the model reads the title and the first {F.BODY_TOKENS} body tokens. "
        f"Unconfirmed records refused: {data.get('refused_unconfirmed', 0)}.", "",
        "Splits are **source-disjoint**: a website, repository or issuing body is wholly in one split "
        f"(groups: {', '.join(f'{k} {v}' for k, v in data.get('groups', {}).items())}).", "",
        "| category | " + " | ".join(counts) + " |", "|---|" + "---:|" * len(counts),
    ]
    lines += [f"| {c} | " + " | ".join(str(counts[s].get(c, 0)) for s in counts) + " |" for c in categories]
    lines += ["", "## Model",
              f"Tokens: {meta['tokenizer']['engine']} (jieba precise mode, HMM off, government user dictionary, "
              "stop words, traditional → simplified first). Features: " + ", ".join(meta["features"]["fields"]) +
              f"; metadata tokens: {', '.join(meta['features']['meta'])}.", "",
              f"Candidates compared by {cand['cv']} (macro-F1 over categories with at least two source groups; "
              "each candidate calibrated and mixed with the rule hints, as served; the model alone beside it):", "",
              "| candidate | macro-F1 | accuracy | macro-F1, model alone | seconds |", "|---|---:|---:|---:|---:|"]
    for name, s in cand["scores"].items():
        mark = " **(chosen)**" if name == cand["chosen"] else ""
        alone = f"{s['model_only_macro_f1']:.3f}" if "model_only_macro_f1" in s else "–"
        lines.append(f"| {name}{mark} | {s['macro_f1']:.3f} | {s['accuracy']:.3f} | {alone} | {s['seconds']} |")
    thr = meta["threshold_source"]
    lines += ["", f"Calibration: {meta['calibration']['method']}, T = {meta['calibration']['temperature']}. "
              f"Thresholds from the {thr['from']} at target precision {thr['target_precision']} "
              f"(floor {thr['floor']}):", "",
              "| category | threshold | chosen from |", "|---|---:|---|"]
    lines += [f"| {c} | {t} | {thr['per_category'].get(c, '')} |" for c, t in meta["thresholds"].items()]
    rule_thresholds = meta.get("rule_thresholds") or {}
    confirmed, model_only = thr.get("rule_confirmed") or {}, thr.get("model_only") or {}
    together = thr.get("together") or {}
    if rule_thresholds:
        t = min(rule_thresholds.values())
        lines += ["", f"When a rule hint of the suggested category itself fired, the threshold is **{t}** instead "
                      f"({', '.join(rule_thresholds)}; not for thin, rule-served categories): the lowest at which "
                      "the suggestions this adds reach the target precision on their own, so the confident share "
                      f"stays at the target. Out of fold at these thresholds: {confirmed.get('predictions')} "
                      f"rule-confirmed suggestions, {confirmed.get('confident')} confident, precision "
                      f"{_pct(confirmed.get('precision'))}; {model_only.get('predictions')} from the model alone, "
                      f"{model_only.get('confident')} confident, precision {_pct(model_only.get('precision'))}; "
                      f"together {together.get('confident')} of {together.get('predictions')}, precision "
                      f"{_pct(together.get('precision'))}."]
    elif confirmed:
        lines += ["", f"Rule-confirmed suggestions have no threshold of their own ({confirmed.get('predictions')} "
                      "out of fold: too few to calibrate one, or none below the thresholds above)."]
    lines += ["", "Rule hints from the taxonomy are mixed into the probabilities (see "
              "`service/data/taxonomy/default.json`; how they combine: `service.classifier.model.rule_weights`) "
              "and always "
              "named in the explanation:", "", "| rule | category | field | weight |", "|---|---|---|---:|"]
    lines += [f"| {r['id']} | {r['category']} | {r['field']} | {r['weight']} |" for r in meta.get("rule_hints", [])]
    lines += ["", "## Evaluation (source-disjoint)"]
    if test:
        lines += _headline("Test split (the shipped model, trained on train + validation)", test)
    if val:
        lines += _headline("Validation split (model trained on the train split only; these documents are among "
                           "those the thresholds were chosen on, so optimistic)", val)
    lines += ["", "### Goals", ""] + _goals(test)
    if test:
        lines += ["", "### Per category, test split", ""] + _per_class_table(test)
        lines += ["", "### Confusion matrix, test split", ""] + _confusion(test)
        if test.get("misclassified"):
            lines += ["", "### Misclassified test documents", "",
                      "| title | source | category | predicted | p | abstained |", "|---|---|---|---|---:|---|"]
            lines += [f"| {e['title']} | {e['group']} | {e['category']} | {e['predicted']} | {e['probability']:.3f} | "
                      f"{'yes' if e['needs_attention'] else '**no**'} |" for e in test["misclassified"]]
    cv = meta.get("cross_validation")
    if cv:
        lines += ["", "### Per category, grouped cross-validation on the train split "
                      f"({cv['candidate']} with the rule hints, top category only)", "",
                  "Each fold holds out whole sources, including whole collections (all legislation, all 20 NPC "
                  "resolutions on the work reports, filed as 其他), so this is harsher than the test split.", ""]
        lines += _per_class_table(cv)
    thin = [c for c in categories if sum(counts[s].get(c, 0) for s in counts) < 20]
    lines += ["", "## Limitations",
              "- The test split is small (a few documents per county-style category): one document moves a "
              "category's F1 by 0.1–0.3. Figures for categories with fewer than 10 test documents are indicative only.",
              f"- Thin categories (fewer than 20 documents in all): {', '.join(thin) or 'none'}. 人事任免 has a single "
              "real document; it is served by the taxonomy's rule hints until reviewers confirm real notices.",
              "- Many county documents in the corpus are web-page excerpts (median ~600 characters); uploads are "
              "whole documents, whose heads look alike but whose length differs.",
              "- 规划计划 vs 政策法规 in the central/Shandong policy collection was labelled from English titles "
              "(action/development plan → 规划计划, implementation plans → 政策法规); some items there are news "
              "items labelled 政策法规. This label noise caps what the model can learn for those two categories.",
              "- Borderline classes by nature: 应急预案 issued as 规范性文件, 政策解读, 其他 (年报, 统计, 采购, 通报).",
              "- The taxonomy's title rules were written from domain knowledge with this corpus in view (and the "
              "test split's misclassified titles have been listed in earlier cards), so the test figures are not a "
              "blind estimate. Each rule agrees with every real label it fires on (tested), and none fires on the "
              "296 corpus documents the caps leave out except the 政策法规 rule, on 87 laws and regulations, "
              "all correctly.",
              "- Retraining uses reviewer-confirmed documents only; a new version is promoted only if macro-F1 on "
              "the test split does not drop.",
              "- These are public documents from elsewhere. How a version fares on a deployment's own documents is "
              "read off its reviewers' decisions: the admin page (在本单位文件上的实际表现) and "
              "`gongkai evaluate --reviewed`.",
              "- Out of scope: a document with fewer than 10 Chinese characters in its title and first 300 body "
              "tokens, or mostly foreign text, is never pre-selected and its explanation says why "
              "(`service.classifier.model.out_of_scope`). No corpus document is out of scope, so the figures above "
              "do not describe such files."]
    if meta.get("rule_thresholds"):
        lines += ["- The lower threshold for rule-confirmed suggestions rests on those same title rules agreeing with "
                  "this corpus's labels, so their out-of-fold precision is optimistic for real uploads: a title rule "
                  "that misfires on a new kind of title pre-selects a wrong category from probability 0.5. The "
                  "explanation always names the rule, and a reviewer confirms every suggestion."]
    lines += [""]
    return "\n".join(lines)
