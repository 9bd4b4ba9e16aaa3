"""`gongkai reclassify …` and `gongkai batches list|show|accept|reject|apply|rollback|cancel|resume`.

See ``service/reclassify.py``. `gongkai reclassify` creates a batch and computes it in
this process with a progress bar on stderr, or with ``--background`` queues one
``service.jobs.reclassify_shard_job`` per shard for the workers (``--wait`` then follows
the batch row with the same bar until it is ready), then prints the grouped summary on
stdout (``--json`` for JSON).
``--dry-run`` batches are kept for review but can never be applied. Exit status 0, or 2
for a usage error (unknown batch, wrong batch state, no such model version …).
"""
from __future__ import annotations

import json
import sys
import time

from service import config, localtime
from service import reclassify as R
from service.db import STATES
from service.redis_server import NO_SHARED_REDIS_ZH, with_shared_redis
from service.runtime import Runtime

NONE_LABEL = "（需人工判断）"  # a suggestion of "no confident category" (needs attention)


def _actor(args) -> str:
    return f"cli:{args.user}"


def _common(p) -> None:
    p.add_argument("--user", default="cli", help="recorded in the audit log as 'cli:<user>'")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub) -> None:
    p = sub.add_parser("reclassify",
                       help="reclassify documents from their stored tokens as a reviewable batch (批量重新分类)")
    p.add_argument("--model", help="model version (default: the active one)")
    p.add_argument("--status", action="append", choices=STATES, help="only documents in this state (repeatable)")
    p.add_argument("--department", help="only this department (code)")
    p.add_argument("--since", help="only documents received on or after YYYY-MM-DD")
    p.add_argument("--dry-run", action="store_true", help="compute and show; the batch can never be applied")
    p.add_argument("--background", action="store_true",
                   help="queue the computation for the workers, one job per shard (needs GONGKAI_REDIS_URL)")
    p.add_argument("--wait", action="store_true", help="with --background: show progress until the batch is ready")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _common(p)
    p.set_defaults(func=run_reclassify)

    b = sub.add_parser("batches", help="reclassification batches: review, apply, roll back")
    b_sub = b.add_subparsers(dest="batches_command", required=True)
    lst = b_sub.add_parser("list", help="recent batches")
    _common(lst)
    lst.set_defaults(func=run_list)
    for name, helptext in (("show", "the grouped summary and the disagreements"), ("apply", "apply accepted changes"),
                           ("rollback", "restore the suggestions an applied batch replaced"),
                           ("cancel", "stop a computing batch"), ("resume", "continue a cancelled batch")):
        c = b_sub.add_parser(name, help=helptext)
        c.add_argument("batch", type=int)
        _common(c)
        if name == "resume":
            c.add_argument("--background", action="store_true", help="queue the unfinished shards for the workers")
            c.add_argument("--wait", action="store_true", help="with --background: show progress until ready")
            c.add_argument("--no-progress", action="store_true")
        c.set_defaults(func=globals()[f"run_{name}"])
    for name in ("accept", "reject"):
        c = b_sub.add_parser(name, help=f"{name} change items (all of them unless narrowed)")
        c.add_argument("batch", type=int)
        c.add_argument("--item", type=int, action="append", help="item id (repeatable)")
        c.add_argument("--group", nargs=2, metavar=("OLD", "NEW"),
                       help=f"only the group OLD → NEW ('-' for {NONE_LABEL})")
        if name == "accept":
            c.add_argument("--above", type=float, help="only items whose new confidence is at least this (0–1)")
        _common(c)
        c.set_defaults(func=run_decide, accept=name == "accept")


def _runtime() -> Runtime:
    return Runtime.from_settings(config.load())


def _bar(args, total: int):
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=getattr(args, "no_progress", False), dynamic_ncols=True, total=total,
                desc="重新分类", unit="件")


def _compute(rt: Runtime, args, batch_id: int) -> str:
    """Compute the batch in this process; the bar shows the batch row's done/total after every page."""
    with _bar(args, total=R.batch_progress(rt.sessions, batch_id)["total"]) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = max(total, done)
            bar.update(done - bar.n)
        return R.compute_batch(rt.sessions, rt.settings, batch_id, progress=progress)


def _watch(rt: Runtime, args, batch_id: int, interval: float = 0.5) -> str:
    """Follow a batch the workers compute, from its row, until it is no longer computing."""
    state = R.batch_progress(rt.sessions, batch_id)
    with _bar(args, total=state["total"]) as bar:
        while True:
            bar.total = max(state["total"], state["done"])
            bar.update(state["done"] - bar.n)
            if state["status"] != "computing":
                return state["status"]
            time.sleep(interval)
            state = R.batch_progress(rt.sessions, batch_id)


def _enqueue(rt: Runtime, batch_id: int) -> list[str]:
    from service.jobs import enqueue_reclassify

    return enqueue_reclassify(rt.queue, rt.sessions, batch_id)


def _background(rt: Runtime, args, batch_id: int) -> int:
    job_ids = _enqueue(rt, batch_id)
    if getattr(args, "wait", False):
        _watch(rt, args, batch_id)
    _print({**R.summary(rt.sessions, batch_id), "job_ids": job_ids}, args.json)
    return 0


def _settings(args):
    """Settings for this command; with ``--background`` pointed at the workers' Redis, or
    None (after saying why) when there is none to reach."""
    settings = config.load()
    if not args.background:
        return settings
    settings = with_shared_redis(settings)
    if not settings.redis_url:
        print("后台计算" + NO_SHARED_REDIS_ZH, file=sys.stderr)
        return None
    return settings


def run_reclassify(args) -> int:
    from service.classifier.store import store_from_settings

    settings = _settings(args)
    if settings is None:
        return 2
    try:
        since = R.since_value(args.since)
    except ValueError:
        print(f"日期格式不对：{args.since}（应为 YYYY-MM-DD）", file=sys.stderr)
        return 2
    rt = Runtime.from_settings(settings)
    try:
        batch_id = R.create_batch(rt.sessions, store_from_settings(settings), _actor(args), model_version=args.model,
                                  statuses=args.status, department=args.department, since=since,
                                  dry_run=args.dry_run)
        if args.background:
            return _background(rt, args, batch_id)
        _compute(rt, args, batch_id)
        _print(R.summary(rt.sessions, batch_id), args.json)
        return 0
    finally:
        rt.close()


def run_list(args) -> int:
    rt = _runtime()
    try:
        batches = R.list_batches(rt.sessions)
    finally:
        rt.close()
    if args.json:
        print(json.dumps(batches, ensure_ascii=False))
        return 0
    if not batches:
        print("还没有重新分类批次。")
    for b in batches:
        counts = b["counts"] or {}
        print(f"批次 {b['batch_id']}  {R.BATCH_STATES_ZH.get(b['status'], b['status'])}"
              f"{'（试运行）' if b['dry_run'] else ''}  模型 {b['model_version']}  {b['done']}/{b['total']} 件"
              f"  变更 {counts.get('change', 0)}  分歧 {counts.get('disagreement', 0)}"
              f"  {b['created_by']} {localtime.display(b['created_at'], seconds=True)}")
    return 0


def run_show(args) -> int:
    rt = _runtime()
    try:
        _print(R.summary(rt.sessions, args.batch), args.json)
    finally:
        rt.close()
    return 0


def _none(value: str) -> str | None:
    return None if value in ("-", NONE_LABEL, "需人工判断") else value


def run_decide(args) -> int:
    rt = _runtime()
    try:
        group = (_none(args.group[0]), _none(args.group[1])) if args.group else None
        n = R.decide(rt.sessions, args.batch, _actor(args), item_ids=args.item, group=group,
                     min_confidence=getattr(args, "above", None), accept=args.accept)
        result = R.summary(rt.sessions, args.batch)
    finally:
        rt.close()
    if args.json:
        print(json.dumps({"decided": n, **result}, ensure_ascii=False))
    else:
        print(f"已{'接受' if args.accept else '拒绝'} {n} 条变更。")
        _print(result, False)
    return 0


def run_apply(args) -> int:
    rt = _runtime()
    try:
        out = R.apply_batch(rt.sessions, args.batch, _actor(args))
    finally:
        rt.close()
    if args.json:
        print(json.dumps({"batch_id": args.batch, **out}, ensure_ascii=False))
    else:
        print(f"批次 {args.batch} 已应用：更新建议分类 {out.get('applied', 0)} 件；"
              f"因已确认而跳过 {out.get('skipped_confirmed', 0)} 件，"
              f"因建议已变化而跳过 {out.get('skipped_changed', 0)} 件。")
    return 0


def run_rollback(args) -> int:
    rt = _runtime()
    try:
        out = R.rollback_batch(rt.sessions, args.batch, _actor(args))
    finally:
        rt.close()
    if args.json:
        print(json.dumps({"batch_id": args.batch, **out}, ensure_ascii=False))
    else:
        print(f"批次 {args.batch} 已回滚：恢复 {out.get('rolled_back', 0)} 件；"
              f"建议此后又有变化而未恢复 {out.get('rollback_skipped', 0)} 件。")
    return 0


def run_cancel(args) -> int:
    rt = _runtime()
    try:
        R.cancel(rt.sessions, args.batch, _actor(args))
    finally:
        rt.close()
    print(json.dumps({"batch_id": args.batch, "status": "cancelled"}) if args.json
          else f"批次 {args.batch} 已取消（可用 gongkai batches resume {args.batch} 继续）。")
    return 0


def run_resume(args) -> int:
    settings = _settings(args)
    if settings is None:
        return 2
    rt = Runtime.from_settings(settings)
    try:
        R.resume(rt.sessions, args.batch, _actor(args))
        if args.background:
            return _background(rt, args, args.batch)
        _compute(rt, args, args.batch)
        _print(R.summary(rt.sessions, args.batch), args.json)
    finally:
        rt.close()
    return 0


def _label(category: str | None) -> str:
    return category if category is not None else NONE_LABEL


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    kinds = result["kinds"]
    state = R.BATCH_STATES_ZH.get(result["status"], result["status"])
    print(f"重新分类批次 {result['batch_id']}（{state}{'，试运行，不能应用' if result['dry_run'] else ''}）"
          f"：模型 {result['model_version']}，已计算 {result['done']}/{result['total']} 件。")
    if result.get("job_ids") and result["status"] == "computing":
        print(f"已排入 {len(result['job_ids'])} 个后台任务（每段一个）；"
              f"用 gongkai batches show {result['batch_id']} 查看进度。")
    print(f"建议分类将变更 {kinds['change']} 件，不变 {kinds['same']} 件，"
          f"已确认分类与新模型不一致 {kinds['disagreement']} 件，没有可分析的文字而跳过 {kinds['no_tokens']} 件。")
    if result["groups"]:
        print("变更（原建议 → 新建议）：")
        for g in result["groups"]:
            conf = (f"，置信度 {g['min_confidence']:.2f}–{g['max_confidence']:.2f}"
                    if g["min_confidence"] is not None else "")
            print(f"  {_label(g['old'])} → {_label(g['new'])}：{g['count']} 件（未审 {g['pending']}，"
                  f"接受 {g['accepted']}，拒绝 {g['rejected']}{conf}）")
    if result["disagreements"]:
        print("已确认或已发布文件的分歧（仅供核查，不会修改）：")
        for d in result["disagreements"]:
            print(f"  文件 {d['document_id']}「{d['title'] or ''}」：确认分类 {d['confirmed_category']}，"
                  f"新模型 {d['model_category']}（{d['confidence']:.2f}）")
