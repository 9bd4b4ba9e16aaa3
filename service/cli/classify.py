"""Classifier commands: ``classify``, ``evaluate``, ``train``, ``train-data``, ``export-training`` and ``models``.

    gongkai classify FILE... [--json]          suggest a disclosure category per file
    gongkai evaluate --data FILE.jsonl [--json] figures of the active model on labelled lines
    gongkai train [--data F]... [--confirmed F]... [--reviewed] [--out DIR] [--no-promote | --force]
    gongkai train-data CORPUS [--out FILE]      rebuild the shipped training set from a corpus
    gongkai export-training [--out FILE] [--since DAY]  published, reviewer-confirmed documents as training data
    gongkai models [list | activate VERSION | rollback] [--json]

``classify``, ``evaluate`` and ``train`` show a progress bar on stderr (``service/cli/progress.py``,
``--progress`` / ``--no-progress``); what they print on stdout does not change.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from service import config
from service.classifier.explanation import FIELD_LABELS_ZH, term_label
from service.cli import progress
from service.errors import GongkaiError

log = logging.getLogger(__name__)
DEFAULT_TRAINING_DATA = config.PROJECT_ROOT / "models" / "training" / "documents.jsonl"


def register(sub) -> None:
    p = sub.add_parser("classify", help="suggest the disclosure category of files (.docx, .pdf, .txt)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file (JSON Lines)")
    p.add_argument("--model", metavar="VERSION", help="use this model version instead of the active one")
    p.add_argument("--no-isolation", action="store_true", help="parse in this process (debugging only)")
    progress.add_arguments(p)
    p.set_defaults(func=run_classify)

    p = sub.add_parser("evaluate", help="evaluate the model on labelled JSON Lines (text, category, title), "
                                        "or the suggestions reviewers decided on (--reviewed)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, metavar="FILE.jsonl")
    source.add_argument("--reviewed", action="store_true",
                        help="score the suggestions stored with reviewed documents against the confirmed "
                             "categories, per model version (this deployment's database)")
    p.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="with --reviewed: only documents reviewed on or after this day (Beijing time)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", metavar="VERSION")
    p.add_argument("--split", help="only lines whose 'split' field has this value (e.g. test)")
    progress.add_arguments(p)
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser("train", help="train, evaluate and (if not worse) activate a new model version")
    p.add_argument("--data", action="append", type=Path, metavar="FILE.jsonl",
                   help=f"training data (repeatable; default {DEFAULT_TRAINING_DATA.relative_to(config.PROJECT_ROOT)})")
    p.add_argument("--confirmed", action="append", type=Path, default=[], metavar="FILE.jsonl",
                   help="reviewer-confirmed documents to add (only lines marked confirmed are used)")
    p.add_argument("--reviewed", action="store_true",
                   help="add this deployment's reviewer-confirmed documents from the database "
                        "(what the admin page's retrain button does)")
    p.add_argument("--out", type=Path, metavar="DIR", help="models directory (default: GONGKAI_MODELS_DIR)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", metavar="A,B", help="compare only these candidates (default: all)")
    p.add_argument("--version", help="version name (default YYYY.MM.DD-N)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--no-promote", action="store_true", help="keep the new version inactive")
    group.add_argument("--force", action="store_true", help="activate even if macro-F1 drops")
    p.add_argument("--json", action="store_true")
    progress.add_arguments(p)
    p.set_defaults(func=run_train)

    p = sub.add_parser("train-data", help="build the training set from a corpus (caps, groups, splits)")
    p.add_argument("corpus", type=Path, metavar="CORPUS.jsonl")
    p.add_argument("--out", type=Path, default=DEFAULT_TRAINING_DATA, metavar="FILE.jsonl")
    p.set_defaults(func=run_train_data)

    p = sub.add_parser("export-training", help="published, reviewer-confirmed documents as training data "
                                               "(JSON Lines) to pool with other deployments")
    p.add_argument("--out", type=Path, metavar="FILE.jsonl", help="write here instead of to standard output")
    p.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="only documents reviewed on or after this day (Beijing time)")
    p.add_argument("--name", default="gongkai", metavar="DEPLOYMENT",
                   help="this deployment's name, put before each department code in the records' source "
                        "(e.g. 长武县): pooled with other counties, same-coded departments stay apart")
    p.set_defaults(func=run_export_training)

    p = sub.add_parser("models", help="list model versions, activate one, or roll back")
    p.add_argument("action", nargs="?", default="list", choices=("list", "activate", "rollback"))
    p.add_argument("version", nargs="?")
    p.add_argument("--out", type=Path, metavar="DIR", help="models directory (default: GONGKAI_MODELS_DIR)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_models)


def _settings(args) -> config.Settings:
    out = getattr(args, "out", None)
    return config.load({"models_dir": out} if out else None)


def _emit(obj: Any, as_json: bool, text: str) -> None:
    progress.echo(json.dumps(obj, ensure_ascii=False) if as_json else text)


def _fail(exc: GongkaiError, as_json: bool) -> int:
    if as_json:
        _emit({"error": exc.to_dict()}, True, "")
    else:
        sys.stderr.write(f"✗ {exc.code}：{exc.message}\n")
    return 2


# -- classify ---------------------------------------------------------------------------------
def classify_file(path: Path, classifier, isolate: bool = True) -> dict[str, Any]:
    """The suggestion the review queue would show for ``path``: the worker's own pipeline."""
    from service.cli.parse import FileNotFound, InternalError, error_record
    from service.pipeline import process

    try:
        if not path.is_file():
            raise FileNotFound(str(path))
        processed = process(path, classifier, isolate=isolate)
        return {"path": str(path), "title": processed.extraction.title, **processed.analysis.prediction}
    except GongkaiError as exc:
        return error_record(path, exc)
    except Exception as exc:  # a bug of ours: log it, never show a traceback to the clerk
        log.exception("internal error classifying %s", path)
        return error_record(path, InternalError(type(exc).__name__))


def describe(record: dict[str, Any]) -> str:
    if "error" in record:
        return f"✗ {record['path']}\n    {record['error']['code']}：{record['error']['message']}"
    top = record["candidates"][0]
    if record["needs_attention"]:
        head = f"需要人工判断（最可能：{top['category']}，概率 {top['probability']:.2f}，未预选分类）"
    else:
        head = f"建议分类：{record['category']}（置信度 {record['confidence']:.2f}）"
    lines = [f"✓ {record['path']}", f"    {head}",
             "    候选：" + " · ".join(f"{c['category']} {c['probability']:.2f}" for c in record["candidates"])]
    abstained = record["explanation"].get("abstained")
    if abstained:
        lines.append(f"    原因：{abstained['message']}")
    terms = record["explanation"].get("terms") or []
    if terms:
        lines.append("    依据：" + "、".join(
            f"{term_label(t['term'], t['field'])}（{FIELD_LABELS_ZH.get(t['field'], t['field'])}）" for t in terms[:6]))
    for rule in record["explanation"].get("rules", []):
        matched = " ".join(rule["matched"].split())   # a match across lines stays on this one
        lines.append(f"    规则：{rule['description']}（匹配“{matched}”）")
    lines.append(f"    模型：{record['model']}")
    return "\n".join(lines)


def run_classify(args) -> int:
    from service.classifier.store import store_from_settings

    try:
        store = store_from_settings(_settings(args))
        classifier = store.load(args.model)
    except GongkaiError as exc:
        return _fail(exc, args.json)
    failed = 0
    for path in progress.track(args, args.files, desc="分类文件", unit="个"):
        record = classify_file(path, classifier, isolate=not args.no_isolation)
        failed += "error" in record
        _emit(record, args.json, describe(record))
    return 1 if failed else 0


# -- evaluate ---------------------------------------------------------------------------------
#: Records classified per step of the bar (predictions do not depend on how records are batched).
EVALUATE_CHUNK = 64


def run_evaluate(args) -> int:
    from service.classifier import evaluation
    from service.classifier.store import store_from_settings
    from service.classifier import training_data as D

    if args.reviewed:
        return run_evaluate_reviewed(args)
    try:
        classifier = store_from_settings(_settings(args)).load(args.model)
        records = D.read_jsonl(args.data)
        if args.split:
            records = [r for r in records if r.get("split") == args.split]
        records = list(D.labelled_records(records, classifier.taxonomy.names))
        if not records:
            raise D.DataError(what="没有可评估的记录")
    except GongkaiError as exc:
        return _fail(exc, args.json)
    predictions = []
    with progress.bar(args, total=len(records), desc="评估", unit="条") as bar:
        for start in range(0, len(records), EVALUATE_CHUNK):
            chunk = records[start:start + EVALUATE_CHUNK]
            predictions += classifier.predict_texts([(r.get("title"), r["text"]) for r in chunk], explain=False)
            bar.update(len(chunk))
    # Lines that name their source (`group`, or `source`/`provenance` as in the corpus) are
    # resampled by source for the intervals; otherwise document by document.
    sourced = all(r.get("group") or r.get("source") or r.get("provenance") for r in records)
    report = evaluation.evaluate([r["category"] for r in records], predictions, classifier.taxonomy.names,
                                 groups=[D.source_group(r) for r in records] if sourced else None)
    report["model"] = classifier.name
    _emit(report, args.json, f"模型 {classifier.name}\n" + evaluation.format_table(report))
    return 0


def run_evaluate_reviewed(args) -> int:
    """`gongkai evaluate --reviewed`: the stored suggestions against reviewers' decisions."""
    from service import quality
    from service.classifier import evaluation
    from service.db import transaction
    from service.localtime import day_start
    from service.runtime import Runtime
    from service.taxonomy import from_settings

    settings = config.load()
    since = day_start(args.since) if args.since else None
    rt = Runtime.from_settings(settings)
    try:
        with transaction(rt.sessions, readonly=True) as s:
            versions = quality.quality_by_version(s, from_settings(settings).names, since=since)
    finally:
        rt.close()
    if args.json:
        _emit({"since": args.since.isoformat() if args.since else None, "versions": versions}, True, "")
        return 0
    if not versions:
        progress.echo("还没有经审核确认、带模型建议的文件。")
        return 0
    for entry in versions:
        lines = [f"模型 {entry['version']}：审核确认 {entry['report']['n']} 篇（以审核人确认的类别为准）",
                 evaluation.format_table(entry["report"])]
        for key, goal in entry["goals"].items():
            lines.append(f"目标 {GOAL_NAMES_ZH[key]} ≥ {goal['target']:.2f}：实测 {goal['measured']:.3f}"
                         f"{'，达到' if goal['met'] else '，未达到'}")
        if entry["corrections"]:
            lines.append("常见更正：" + "；".join(f"{c['suggested']} → {c['confirmed']} {c['count']} 篇"
                                               for c in entry["corrections"]))
        progress.echo("\n".join(lines) + "\n")
    return 0


GOAL_NAMES_ZH = {"macro_f1": "宏平均F1", "confident_precision": "预选准确率", "confident_coverage": "预选覆盖率"}


# -- train ------------------------------------------------------------------------------------
def _database_records(settings, **kwargs) -> list[dict]:
    from service.retrain import confirmed_records
    from service.runtime import Runtime

    rt = Runtime.from_settings(settings)
    try:
        return confirmed_records(rt.sessions, **kwargs)
    finally:
        rt.close()


def run_export_training(args) -> int:
    from service.classifier import training_data as D
    from service.localtime import day_start

    since = day_start(args.since) if args.since else None
    records = _database_records(config.load(), shareable=True, since=since, source_prefix=args.name)
    if args.out:
        D.write_jsonl(records, args.out)
    else:
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stderr.write(f"导出已公开、经审核确认的文件 {len(records)} 篇（不含未公开、已撤回或有密级标志的文件）"
                     + (f"到 {args.out}" if args.out else "") + "\n")
    return 0


def run_train(args) -> int:
    from service.classifier import train
    from service.classifier.store import store_from_settings
    from service.classifier import training_data as D

    settings = _settings(args)
    try:
        store = store_from_settings(settings)
        records: list[dict] = []
        from service.retrain import training_data_path

        for path in args.data or [training_data_path(settings)]:
            records += D.read_jsonl(path)
        for path in args.confirmed:
            extra = D.read_jsonl(path)
            confirmed = [dict(r, split=r.get("split") or "train") for r in extra if D.is_confirmed(r)]
            sys.stderr.write(f"{path}: 采用已确认 {len(confirmed)} 条，忽略未确认 {len(extra) - len(confirmed)} 条\n")
            records += confirmed
        if args.reviewed:
            reviewed = _database_records(settings)
            sys.stderr.write(f"数据库：采用经审核确认的文件 {len(reviewed)} 篇\n")
            records += reviewed
        names = args.candidates.split(",") if args.candidates else None
        unknown = sorted(set(names or ()) - set(train.candidates()))
        if unknown:
            raise D.DataError(what=f"未知的候选模型 {', '.join(unknown)}；可选：{', '.join(train.candidates())}")
        with progress.bar(args, total=None, desc="训练", unit="次拟合") as bar:
            result = train.train(records, store.taxonomy, seed=args.seed, candidate_names=names,
                                 progress=lambda m: progress.echo(m, file=sys.stderr), step=progress.updater(bar))
        version = args.version or store.new_version_name()
        decision = train.save_and_promote(store, version, result, promote=not args.no_promote, force=args.force)
    except GongkaiError as exc:
        return _fail(exc, args.json)
    summary = {"version": version, "path": str(store.path(version)), **decision,
               "test": result.reports.get("test", {}).get("macro_f1"),
               "confident": result.reports.get("test", {}).get("confident")}
    text = (f"模型 {store.taxonomy.id}/{version} 已保存到 {store.path(version)}\n"
            f"测试集宏平均F1 {summary['test']}；{decision['message']}")
    _emit(summary, args.json, text)
    return 0


def run_train_data(args) -> int:
    from service.classifier import training_data as D

    try:
        records = D.build_from_corpus(args.corpus)
    except (GongkaiError, OSError) as exc:
        return _fail(exc if isinstance(exc, GongkaiError) else D.DataError(str(exc), what=str(args.corpus)), False)
    D.write_jsonl(records, args.out)
    for split, counts in D.split_counts(records).items():
        sys.stdout.write(f"{split}: {sum(counts.values())} {json.dumps(counts, ensure_ascii=False)}\n")
    sys.stdout.write(f"→ {args.out}\n")
    return 0


# -- models -----------------------------------------------------------------------------------
def run_models(args) -> int:
    from service.classifier.store import store_from_settings

    try:
        store = store_from_settings(_settings(args))
        if args.action == "activate":
            if not args.version:
                from service.classifier.model import ModelError

                raise ModelError(what="请指定要启用的版本，例如 gongkai models activate 2026.12.05-1")
            store.activate(args.version, reason="manual activation")
            _emit({"active": args.version}, args.json, f"已启用 {store.taxonomy.id}/{args.version}")
            return 0
        if args.action == "rollback":
            version = store.rollback()
            _emit({"active": version}, args.json, f"已回滚到 {store.taxonomy.id}/{version}")
            return 0
    except GongkaiError as exc:
        return _fail(exc, args.json)
    versions = [v.to_dict() for v in store.versions()]
    lines = [f"分类体系 {store.taxonomy.id}（{store.root}）"]
    for v in versions:
        mark = "*" if v["active"] else " "
        f1 = "–" if v["macro_f1"] is None else f"{v['macro_f1']:.3f}"
        lines.append(f" {mark} {v['version']}  {v['created']}  测试集宏平均F1 {f1}")
    if not versions:
        lines.append("  （没有模型，请运行 gongkai train）")
    _emit({"taxonomy": store.taxonomy.id, "versions": versions}, args.json, "\n".join(lines))
    return 0
