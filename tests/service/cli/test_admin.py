"""Operator commands run as an operator runs them: real processes on a real data directory."""
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from service import config
from service.db import Department, transaction
from service.receiving import receive
from service.runtime import Runtime


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    e["GONGKAI_DATA_DIR"] = str(tmp_path / "data")
    return e


def gongkai(env, *args):
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_db_departments_users_and_audit(env, tmp_path):
    assert gongkai(env, "db", "upgrade").returncode == 0
    assert gongkai(env, "departments", "add", "mzj", "县民政局").returncode == 0
    refused = gongkai(env, "users", "add", "clerk", "--role", "uploader", "--password", "pw-12345678")
    assert refused.returncode == 2 and "部门" in refused.stderr
    short = gongkai(env, "users", "add", "clerk", "--role", "uploader", "--department", "mzj", "--password", "pw")
    assert short.returncode == 2 and "密码至少 8 位" in short.stderr
    added = gongkai(env, "users", "add", "clerk", "--role", "uploader", "--department", "mzj",
                    "--password", "pw-12345678")
    assert added.returncode == 0 and "首次登录时须修改密码" in added.stdout
    chosen = gongkai(env, "users", "add", "chief", "--role", "reviewer", "--password", "picked-by-me-1", "--permanent")
    assert chosen.returncode == 0 and "须修改" not in chosen.stdout
    db = sqlite3.connect(tmp_path / "data" / "gongkai.db")
    assert dict(db.execute("SELECT username, must_change_password FROM users")) == {"clerk": 1, "chief": 0}
    db.close()
    # the admin page's rules: a code fit for index numbers, no duplicates, a message not a traceback
    for args, message in ((("departments", "add", "BAD!", "某部门"), "部门代码须为小写字母"),
                          (("departments", "add", "mzj", "县民政局"), "部门代码「mzj」已存在"),
                          (("users", "add", "clerk", "--role", "reviewer", "--password", "pw-12345678"),
                           "用户名「clerk」已存在")):
        refused = gongkai(env, *args)
        assert refused.returncode == 2 and message in refused.stderr and "Traceback" not in refused.stderr
    listed = gongkai(env, "users", "list").stdout
    assert "clerk\tuploader\tmzj" in listed
    ok = gongkai(env, "audit", "verify")
    assert ok.returncode == 0 and "3 条" in ok.stdout  # department + two users; the refused user left none
    exported = gongkai(env, "audit", "export", "--kind", "user")
    table = list(csv.reader(io.StringIO(exported.stdout.lstrip("\ufeff"))))
    assert exported.returncode == 0
    assert [row[:1] + row[2:5] for row in table[1:]] == [[seq, "cli", "新建账号", "user.create"] for seq in ("3", "2")]
    out = tmp_path / "audit.csv"
    assert "已导出 3 条记录" in gongkai(env, "audit", "export", "--out", str(out)).stderr
    assert out.read_text(encoding="utf-8-sig").count("\n") == 4
    bad = gongkai(env, "audit", "export", "--since", "yesterday")
    assert bad.returncode == 2 and "起始日期应为 YYYY-MM-DD" in bad.stderr

    db = sqlite3.connect(tmp_path / "data" / "gongkai.db")
    db.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    db.commit()
    db.close()
    broken = gongkai(env, "audit", "verify")
    assert broken.returncode == 1 and "第 2 条，记录内容与其哈希不符" in broken.stdout


def test_users_passwd_deactivate_and_activate(env, tmp_path):
    assert gongkai(env, "db", "upgrade").returncode == 0
    assert gongkai(env, "users", "add", "boss", "--role", "admin", "--password", "pw-12345678").returncode == 0
    assert gongkai(env, "users", "add", "rev", "--role", "reviewer", "--password", "pw-12345678").returncode == 0
    before = sqlite3.connect(tmp_path / "data" / "gongkai.db").execute(
        "SELECT password_hash FROM users WHERE username = 'boss'").fetchone()[0]
    for args, message in ((("users", "passwd", "boss", "--password", "short"), "新密码至少 8 位"),
                          (("users", "passwd", "nobody", "--password", "pw-87654321"), "没有用户「nobody」"),
                          (("users", "deactivate", "boss"), "最后一个可用的管理员")):
        refused = gongkai(env, *args)
        assert refused.returncode == 2 and message in refused.stderr and "Traceback" not in refused.stderr
    done = gongkai(env, "users", "passwd", "boss", "--password", "pw-87654321")
    assert done.returncode == 0 and "已为 boss 设置新密码" in done.stdout
    assert gongkai(env, "users", "deactivate", "rev").returncode == 0
    assert "rev\treviewer\t\t停用" in gongkai(env, "users", "list").stdout
    assert gongkai(env, "users", "activate", "rev").returncode == 0
    assert "rev\treviewer\t\t\n" in gongkai(env, "users", "list").stdout
    db = sqlite3.connect(tmp_path / "data" / "gongkai.db")
    after = db.execute("SELECT password_hash FROM users WHERE username = 'boss'").fetchone()[0]
    actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert after != before
    assert actions[-3:] == ["user.password_reset", "user.deactivate", "user.activate"]


def test_tokens_add_list_and_revoke(env):
    assert gongkai(env, "db", "upgrade").returncode == 0
    assert gongkai(env, "departments", "add", "oa", "县政府办公室").returncode == 0
    created = gongkai(env, "tokens", "add", "oa", "--label", "协同办公")
    assert created.returncode == 0
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("gk_") and len(secret) > 30
    listed = gongkai(env, "tokens", "list").stdout
    assert "\toa\t协同办公\t" in listed and "有效" in listed and secret not in listed
    token_id = listed.split("\t")[0]
    assert gongkai(env, "tokens", "revoke", token_id).returncode == 0
    assert "已吊销" in gongkai(env, "tokens", "list", "--department", "oa").stdout
    missing = gongkai(env, "tokens", "revoke", "999")
    assert missing.returncode == 2 and "没有这个接口令牌" in missing.stderr and "Traceback" not in missing.stderr


def test_check_reports_missing_mismatched_and_orphaned_originals(env, tmp_path):
    assert gongkai(env, "db", "upgrade").returncode == 0
    rt = Runtime.from_settings(config.load({"data_dir": str(tmp_path / "data")}, environ={}))
    with transaction(rt.sessions) as s:
        s.add(Department(code="a", name="甲"))
    ids = [receive(rt.sessions, rt.storage, department_id=1, filename=f"{i}.txt",
                   stream=io.BytesIO(f"文件{i}".encode()), uploaded_by="t").document_id for i in range(3)]
    assert gongkai(env, "check").returncode == 0

    from service.db import Document
    with transaction(rt.sessions, readonly=True) as s:
        shas = [s.get(Document, i).sha256 for i in ids]
    rt.storage.local_path(shas[0]).unlink()  # missing
    rt.storage.local_path(shas[1]).write_bytes(b"tampered")  # checksum mismatch
    orphan = rt.storage.put(io.BytesIO(b"no row names me")).sha256  # orphan
    from service import annual_report
    from service.taxonomy import load as load_taxonomy
    with transaction(rt.sessions) as s:                    # a final annual report's .docx is owned
        filed = annual_report.finalize(s, rt.storage, 2025, "adm", load_taxonomy()).final_sha256
    with transaction(rt.sessions) as s:                    # and stays owned when the report is reopened
        annual_report.reopen(s, 2025, "adm", "更正")
    report = gongkai(env, "check", "--json")
    assert report.returncode == 1
    body = json.loads(report.stdout)
    assert [m["sha256"] for m in body["missing"]] == [shas[0]]
    assert [m["sha256"] for m in body["mismatched"]] == [shas[1]]
    assert body["orphans"] == [orphan] and rt.storage.exists(filed)
    rt.close()


def test_a_command_before_the_schema_exists_says_what_to_run_not_sql(env, tmp_path):
    from service.db import make_engine
    from service.migrate import head, schema_problem, upgrade

    fresh = gongkai(env, "departments", "add", "mzj", "县民政局")
    assert fresh.returncode == 2 and "Traceback" not in fresh.stderr
    assert "数据库尚未初始化" in fresh.stderr and "gongkai db upgrade" in fresh.stderr
    # a database a migration behind: what a failing query would be told
    older = str(int(head()) - 1).zfill(len(head()))
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'gongkai.db'}")
    upgrade(engine, older)
    assert f"数据库结构是旧版本 {older}（需要 {head()}）" in schema_problem(engine).message
    upgrade(engine)
    assert schema_problem(engine) is None
    engine.dispose()
    assert gongkai(env, "departments", "add", "mzj", "县民政局").returncode == 0


def test_an_unreachable_database_is_a_message_without_its_password(env):
    env = dict(env, GONGKAI_DATABASE_URL="postgresql+psycopg://gongkai:s3cret@127.0.0.1:1/none")
    down = gongkai(env, "departments", "list")
    assert down.returncode == 2 and "Traceback" not in down.stderr
    assert "database_unavailable" in down.stderr and "127.0.0.1:1" in down.stderr and "s3cret" not in down.stderr


def test_output_piped_into_a_reader_that_stops_is_not_a_traceback(env):
    assert gongkai(env, "db", "upgrade").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "report", "--year", "2025"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()                      # like `gongkai report | head -0`
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_a_departments_credit_code_is_set_checked_and_listed(env, tmp_path):
    assert gongkai(env, "db", "upgrade").returncode == 0
    assert gongkai(env, "departments", "add", "zfb", "县政府办", "--credit-code", "113708280043326001").returncode == 0
    assert gongkai(env, "departments", "add", "mzj", "县民政局").returncode == 0
    wrong = gongkai(env, "departments", "credit-code", "mzj", "113708280043326002")
    assert wrong.returncode == 2 and "无效" in wrong.stderr and "Traceback" not in wrong.stderr
    assert gongkai(env, "departments", "credit-code", "mzj", "91350100M000100Y43").returncode == 0
    assert gongkai(env, "departments", "list").stdout.splitlines() == [
        "mzj\t县民政局\t91350100M000100Y43", "zfb\t县政府办\t113708280043326001"]
