"""Operator commands: `gongkai db upgrade`, `gongkai audit verify|export`, `gongkai check`,
`gongkai departments …`, `gongkai users …`, `gongkai tokens …`, `gongkai worker`.

`audit verify` and `check` walk everything there is, so they show a progress bar on stderr
(``service/cli/progress.py``, ``--progress`` / ``--no-progress``); stdout is unchanged."""
from __future__ import annotations

import contextlib
import getpass
import json
import sys

from sqlalchemy import select

from service import audit, config, localtime, spreadsheet
from service import audit_query
from service.cli import progress
from service.db import ROLES, Department, Document, User, transaction
from service.runtime import Runtime


def _runtime() -> Runtime:
    return Runtime.from_settings(config.load())


def register(sub) -> None:
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations up to the newest schema").set_defaults(func=db_upgrade)

    au = sub.add_parser("audit", help="audit log")
    au_sub = au.add_subparsers(dest="audit_command", required=True)
    av = au_sub.add_parser("verify", help="recompute the hash chain")
    progress.add_arguments(av)
    av.set_defaults(func=audit_verify)
    ax = au_sub.add_parser("export", help="entries as CSV (Excel/WPS), newest first, optionally filtered")
    ax.add_argument("--actor")
    ax.add_argument("--kind", help="an action (login.failed) or a kind of action (user: every user.*)")
    ax.add_argument("--document", metavar="ID")
    ax.add_argument("--since", metavar="YYYY-MM-DD", help="Beijing day, inclusive")
    ax.add_argument("--until", metavar="YYYY-MM-DD", help="Beijing day, inclusive")
    ax.add_argument("--out", metavar="FILE.csv", help="write here instead of standard output")
    ax.set_defaults(func=audit_export)

    ck = sub.add_parser("check", help="report missing originals, checksum mismatches and orphans")
    ck.add_argument("--json", action="store_true")
    progress.add_arguments(ck)
    ck.set_defaults(func=check)

    dep = sub.add_parser("departments", help="departments (乡镇、县直部门)")
    dep_sub = dep.add_subparsers(dest="dep_command", required=True)
    add = dep_sub.add_parser("add")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--credit-code", default=None, help="统一社会信用代码 (18 characters, GB 32100)")
    add.set_defaults(func=department_add)
    dep_sub.add_parser("list").set_defaults(func=department_list)
    credit = dep_sub.add_parser("credit-code", help="set (or with '' clear) a department's 统一社会信用代码")
    credit.add_argument("code")
    credit.add_argument("credit_code")
    credit.set_defaults(func=department_credit_code)

    us = sub.add_parser("users", help="user accounts")
    us_sub = us.add_subparsers(dest="user_command", required=True)
    uadd = us_sub.add_parser("add")
    uadd.add_argument("username")
    uadd.add_argument("--role", choices=list(ROLES), required=True)
    uadd.add_argument("--department", help="department code (required for uploaders)")
    uadd.add_argument("--name", default="")
    uadd.add_argument("--password", help="read from the terminal when omitted")
    uadd.add_argument("--permanent", action="store_true",
                      help="the user chose this password themselves: do not ask them to change it at first sign-in")
    uadd.set_defaults(func=user_add)
    us_sub.add_parser("list").set_defaults(func=user_list)
    upw = us_sub.add_parser("passwd", help="set a new password (e.g. a forgotten admin password); "
                                           "the user's signed-in sessions end")
    upw.add_argument("username")
    upw.add_argument("--password", help="read from the terminal (twice) when omitted")
    upw.add_argument("--permanent", action="store_true",
                     help="the user chose this password themselves: do not ask them to change it at sign-in")
    upw.set_defaults(func=user_passwd)
    for verb, text in (("deactivate", "stop an account (staff who left): its sessions end, its records stay"),
                       ("activate", "reactivate an account")):
        act = us_sub.add_parser(verb, help=text)
        act.add_argument("username")
        act.set_defaults(func=user_set_active, active=verb == "activate")

    tk = sub.add_parser("tokens", help="department API tokens for systems that upload")
    tk_sub = tk.add_subparsers(dest="token_command", required=True)
    tadd = tk_sub.add_parser("add", help="create a token; it is printed once")
    tadd.add_argument("department")
    tadd.add_argument("--label", default="")
    tadd.set_defaults(func=token_add)
    tlist = tk_sub.add_parser("list", help="tokens (never their secret)")
    tlist.add_argument("--department")
    tlist.set_defaults(func=token_list)
    trev = tk_sub.add_parser("revoke", help="refuse a token from now on")
    trev.add_argument("token_id", type=int)
    trev.set_defaults(func=token_revoke)

    wk = sub.add_parser("worker", help="run an ingest worker against GONGKAI_REDIS_URL")
    wk.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    wk.add_argument("--name")
    wk.set_defaults(func=worker)


def db_upgrade(args) -> int:
    from service.migrate import current, upgrade

    rt = _runtime()
    upgrade(rt.engine)
    print(f"数据库已升级到版本 {current(rt.engine)}")
    return 0


def audit_verify(args) -> int:
    rt = _runtime()
    with transaction(rt.sessions) as s, progress.bar(args, total=None, desc="校验审计日志", unit="条") as bar:
        result = audit.verify(s, progress=progress.updater(bar))
    if result.ok:
        print(f"审计日志完整：{result.entries} 条记录，哈希链校验通过。")
        return 0
    problem = audit_query.problem_zh(result.problem)
    print(f"审计日志校验失败：第 {result.first_bad_seq} 条，{problem}（{result.problem}）；"
          f"此前 {result.entries} 条完好。")
    return 1


def audit_export(args) -> int:
    try:
        query = audit_query.parse({name: getattr(args, name) or ""
                                for name in ("actor", "kind", "document", "since", "until")})
    except audit_query.AuditQueryError as exc:
        print(exc.message_zh_text, file=sys.stderr)
        return 2
    rt = _runtime()
    rows = 0
    with (open(args.out, "w", encoding="utf-8", newline="") if args.out else contextlib.nullcontext(sys.stdout) as out,
          transaction(rt.sessions, readonly=True) as s):
        def counted(table):
            nonlocal rows
            for index, row in enumerate(table):   # the header is row 0
                rows = index
                yield row
        spreadsheet.write_rows(out, counted(audit_query.csv_table(s, query)))
    if args.out:
        print(f"已导出 {rows} 条记录到 {args.out}", file=sys.stderr)
    return 0


def check(args) -> int:
    from service import annual_report
    from service.storage import digest_of_file

    rt = _runtime()
    with transaction(rt.sessions) as s:
        rows = s.execute(select(Document.id, Document.sha256)).all()
        copies = s.execute(select(Document.public_copy).where(Document.public_copy.is_not(None))).scalars().all()
        reports = annual_report.final_digests(s)       # final annual reports' .docx
    known = {sha for _, sha in rows}
    public_pdfs = {c["sha256"] for c in copies if isinstance(c, dict) and c.get("sha256")}  # service.public_copy
    state: dict[str, str] = {}  # each original is hashed once, however many documents share it
    for sha in progress.track(args, sorted(known), desc="校验原件", unit="个"):
        if not rt.storage.exists(sha):
            state[sha] = "missing"
        elif digest_of_file(rt.storage.local_path(sha)) != sha:
            state[sha] = "mismatched"
    missing = [{"document_id": doc_id, "sha256": sha} for doc_id, sha in rows if state.get(sha) == "missing"]
    mismatched = [{"document_id": doc_id, "sha256": sha} for doc_id, sha in rows if state.get(sha) == "mismatched"]
    orphans = [sha for sha in rt.storage.iter_digests() if sha not in known | public_pdfs | reports]
    report = {"documents": len(rows), "missing": missing, "mismatched": mismatched, "orphans": orphans}
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"文件 {len(rows)} 个；原件缺失 {len(missing)}；校验不符 {len(mismatched)}；无主原件 {len(orphans)}")
        for item in missing:
            print(f"  缺失：文件 {item['document_id']} {item['sha256']}")
        for item in mismatched:
            print(f"  校验不符：文件 {item['document_id']} {item['sha256']}")
        for sha in orphans:
            print(f"  无主原件：{sha}")
    return 1 if missing or mismatched else 0


def department_add(args) -> int:
    from service.accounts import add_department

    rt = _runtime()
    with transaction(rt.sessions) as s:
        add_department(s, args.code, args.name, "cli", credit_code=args.credit_code)
    print(f"已添加部门 {args.code} {args.name}")
    return 0


def department_credit_code(args) -> int:
    from service.accounts import set_credit_code

    rt = _runtime()
    with transaction(rt.sessions) as s:
        dept = set_credit_code(s, args.code, args.credit_code, "cli")
        print(f"部门 {dept.code} 的统一社会信用代码：{dept.credit_code or '（未设置）'}")
    return 0


def department_list(args) -> int:
    rt = _runtime()
    with transaction(rt.sessions) as s:
        for d in s.execute(select(Department).order_by(Department.code)).scalars():
            print(f"{d.code}\t{d.name}\t{d.credit_code or ''}")
    return 0


def user_add(args) -> int:
    from service.accounts import add_user

    rt = _runtime()
    password = args.password or getpass.getpass("密码：")
    with transaction(rt.sessions) as s:
        add_user(s, args.username, args.role, password, department=args.department, display_name=args.name,
                 actor="cli", temporary=not args.permanent)
    print(f"已添加用户 {args.username}（{args.role}）" + ("" if args.permanent else "；首次登录时须修改密码"))
    return 0


def user_passwd(args) -> int:
    from service.accounts import AccountInputError, reset_password

    password = args.password
    if password is None:
        password = getpass.getpass("新密码：")
        if getpass.getpass("再次输入新密码：") != password:
            raise AccountInputError(what="两次输入的新密码不一致")
    rt = _runtime()
    with transaction(rt.sessions) as s:
        reset_password(s, args.username, password, "cli", temporary=not args.permanent)
    print(f"已为 {args.username} 设置新密码；该用户已登录的会话已失效"
          + ("。" if args.permanent else "，登录后须修改密码。"))
    return 0


def user_set_active(args) -> int:
    from service.accounts import set_active

    rt = _runtime()
    with transaction(rt.sessions) as s:
        set_active(s, args.username, args.active, "cli")
    print(f"已{'启用' if args.active else '停用'}用户 {args.username}")
    return 0


def user_list(args) -> int:
    from service.accounts import locked_until

    rt = _runtime()
    with transaction(rt.sessions) as s:
        for u in s.execute(select(User).order_by(User.username)).scalars():
            state = "停用" if not u.active else ("锁定" if locked_until(u) else "")
            print(f"{u.username}\t{u.role}\t{u.department.code if u.department else ''}\t{state}")
    return 0


def token_add(args) -> int:
    from service import api_tokens

    with transaction(_runtime().sessions) as s:
        token, secret = api_tokens.create(s, args.department, args.label, "cli")
        token_id = token.id
    print(f"已为部门 {args.department} 创建接口令牌 {token_id}（只显示这一次，请妥善保存）：")
    print(secret)
    return 0


def token_list(args) -> int:
    from service import api_tokens

    with transaction(_runtime().sessions, readonly=True) as s:
        for t in api_tokens.listing(s, args.department):
            state = "有效" if t["active"] else f"已吊销 {localtime.display(t['revoked_at'])}"
            print(f"{t['id']}\t{t['department']}\t{t['label']}\t{localtime.display(t['created_at'])}\t{state}")
    return 0


def token_revoke(args) -> int:
    from service import api_tokens

    with transaction(_runtime().sessions) as s:
        token = api_tokens.revoke(s, args.token_id, "cli")
        print(f"已吊销接口令牌 {token.id}（{token.department.code} {token.label}）")
    return 0


def worker(args) -> int:
    from service.cli.serve import die_with_parent
    from service.worker import run_worker

    die_with_parent()

    return 0 if run_worker(_runtime(), burst=args.burst, name=args.name) or args.burst else 1
