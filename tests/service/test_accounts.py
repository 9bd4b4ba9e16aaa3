"""Account lifecycle on SQLite and PostgreSQL: own password, admin reset, deactivation, lockout."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from service import accounts, audit
from service.accounts import AccountInputError
from service.db import AuditEntry, User, transaction

OLD = "old-password-1"


@pytest.fixture
def users(sessions):
    with transaction(sessions) as s:
        for name, role in (("adm", "admin"), ("rev", "reviewer")):
            s.add(User(username=name, role=role, password_hash=generate_password_hash(OLD)))
    return sessions


def user(sessions, name) -> User:
    with transaction(sessions, readonly=True) as s:
        found = s.execute(select(User).where(User.username == name)).scalar_one()
        s.expunge(found)
        return found


def actions(sessions) -> list[tuple[str, str]]:
    with transaction(sessions, readonly=True) as s:
        return [(e.actor, e.action) for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


def test_a_user_changes_their_password_only_knowing_the_current_one(users):
    rev = user(users, "rev")
    stamp = accounts.session_stamp(rev)
    for current, new, message in ((("wrong-password", "new-password-1", "当前密码不正确")),
                                  (OLD, "short", "新密码至少 8 位"),
                                  (OLD, "onlyletters", "新密码须包含字母、数字、符号中的至少两种"),
                                  (OLD, "20261206", "新密码须包含字母、数字、符号中的至少两种"),
                                  (OLD, "政府信息公开平台", "新密码须包含字母、数字、符号中的至少两种"),
                                  (OLD, "Rev-2026-pw", "新密码不能包含用户名"),
                                  (OLD, OLD, "不能与当前密码相同")):
        with pytest.raises(AccountInputError) as refused, transaction(users) as s:
            accounts.change_own_password(s, rev.id, current, new)
        assert message in refused.value.message
    assert check_password_hash(user(users, "rev").password_hash, OLD)  # nothing changed

    with transaction(users) as s:   # letters and a sign; or Chinese with digits: both two kinds
        accounts.change_own_password(s, rev.id, OLD, "政务公开2026")
        accounts.change_own_password(s, rev.id, "政务公开2026", "new-password-1")
    changed = user(users, "rev")
    assert check_password_hash(changed.password_hash, "new-password-1")
    assert accounts.session_stamp(changed) != stamp  # sessions opened with the old password are over
    assert actions(users)[-1] == ("rev", "user.password_change")


def test_an_admin_resets_a_forgotten_password(users):
    with pytest.raises(AccountInputError, match="没有用户"), transaction(users) as s:
        accounts.reset_password(s, "nobody", "new-password-1", "adm")
    with pytest.raises(AccountInputError, match="至少 8 位"), transaction(users) as s:
        accounts.reset_password(s, "rev", "1234567", "adm")
    with transaction(users) as s:
        accounts.reset_password(s, "rev", "given-by-admin", "adm")
    assert check_password_hash(user(users, "rev").password_hash, "given-by-admin")
    assert actions(users)[-1] == ("adm", "user.password_reset")


def test_deactivation_never_locks_everybody_out(users):
    with pytest.raises(AccountInputError, match="不能停用自己的账号"), transaction(users) as s:
        accounts.set_active(s, "adm", False, "adm")
    with pytest.raises(AccountInputError, match="最后一个可用的管理员"), transaction(users) as s:
        accounts.set_active(s, "adm", False, "cli")
    with transaction(users) as s:
        accounts.set_active(s, "rev", False, "adm")
    assert not user(users, "rev").active
    with transaction(users) as s:  # already inactive: nothing to record
        accounts.set_active(s, "rev", False, "adm")
    with transaction(users) as s:
        accounts.add_user(s, "adm2", "admin", "second-admin-1", actor="adm")
    with transaction(users) as s:  # with a second active admin the first may go
        accounts.set_active(s, "adm", False, "adm2")
    with pytest.raises(AccountInputError, match="最后一个可用的管理员"), transaction(users) as s:
        accounts.set_active(s, "adm2", False, "cli")
    with transaction(users) as s:
        accounts.set_active(s, "adm", True, "adm2")
    assert user(users, "adm").active
    assert [a for a in actions(users) if a[1].startswith("user.")] == [
        ("adm", "user.deactivate"), ("adm", "user.create"), ("adm2", "user.deactivate"), ("adm2", "user.activate")]
    with transaction(users, readonly=True) as s:
        assert audit.verify(s).ok


LOCKOUT_POLICY = accounts.LoginPolicy(max_failures=3, lockout=timedelta(minutes=15))


def login(sessions, password, policy=LOCKOUT_POLICY):
    with transaction(sessions) as s:
        found, refusal = accounts.attempt_login(s, "rev", password, policy, ip="10.0.0.9")
        return (found.username if found else None), (refusal.code if refusal else None)


def test_wrong_passwords_in_a_row_lock_the_account_until_its_time_or_a_new_password(users):
    assert login(users, "wrong-1") == (None, "bad_credentials")
    assert login(users, OLD) == ("rev", None)  # a success starts the count again
    assert login(users, "wrong-1") == (None, "bad_credentials")
    assert login(users, "wrong-2") == (None, "bad_credentials")
    assert accounts.locked_until(user(users, "rev")) is None
    assert login(users, "wrong-3") == (None, "bad_credentials")  # the third in a row locks
    until = accounts.locked_until(user(users, "rev"))
    assert until is not None and timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    assert login(users, OLD) == (None, "account_locked")  # even the right password, while locked
    with transaction(users) as s:
        refusal = accounts.attempt_login(s, "rev", OLD, accounts.LoginPolicy())[1]
    assert "锁定至" in refusal.message and refusal.http_status == 429

    with transaction(users) as s:  # the lock's time passes
        s.execute(select(User).where(User.username == "rev")).scalar_one().locked_until = \
            datetime.now(UTC) - timedelta(seconds=1)
    assert login(users, OLD) == ("rev", None)

    for attempt in ("wrong-1", "wrong-2", "wrong-3"):
        login(users, attempt)
    assert login(users, OLD) == (None, "account_locked")
    with transaction(users) as s:
        accounts.reset_password(s, "rev", "given-by-admin", "adm")
    assert login(users, "given-by-admin") == ("rev", None)
    with transaction(users) as s:  # an unknown name is told the same as a wrong password, and locks nothing
        assert accounts.attempt_login(s, "nobody", OLD, accounts.LoginPolicy())[1].code == "bad_credentials"
        # nor is a name longer than any account's: recording it must not fail (PostgreSQL refused it)
        assert accounts.attempt_login(s, "名" * 300, OLD, accounts.LoginPolicy())[1].code == "bad_credentials"
    with transaction(users, readonly=True) as s:
        clipped = s.execute(select(AuditEntry.actor).where(AuditEntry.actor.startswith("名"))).scalar_one()
        assert clipped == "名" * 99 + "…"
        assert audit.verify(s).ok
    logged = [a for _, a in actions(users) if a.startswith(("login", "user.lock"))]
    assert logged.count("user.lock") == 2 and logged.count("login.locked") == 3 and logged.count("login") == 3


def test_the_first_start_password_keeps_the_rules_it_asks_of_people():
    for _ in range(300):   # token_urlsafe alone is letters only about one time in thirty
        accounts._check_new_password(accounts.random_password("admin"), "admin")


def test_a_password_someone_else_set_is_temporary_until_its_user_chooses_their_own(users):
    with transaction(users) as s:
        accounts.add_department(s, "mzj", "县民政局", "adm")
        accounts.add_user(s, "clerk", "uploader", "given-2026", department="mzj", actor="adm")
        accounts.add_user(s, "chief", "reviewer", "picked-by-me-1", actor="cli", temporary=False)
    assert user(users, "clerk").must_change_password and not user(users, "chief").must_change_password
    with transaction(users) as s:
        accounts.change_own_password(s, user(users, "clerk").id, "given-2026", "picked-by-me-2")
    assert not user(users, "clerk").must_change_password
    with transaction(users) as s:   # forgot it: the admin's new one is temporary again
        accounts.reset_password(s, "clerk", "again-2026", "adm")
    assert user(users, "clerk").must_change_password
    with transaction(users) as s:
        accounts.reset_password(s, "clerk", "picked-by-me-3", "cli", temporary=False)
    assert not user(users, "clerk").must_change_password
    with transaction(users, readonly=True) as s:
        details = [e.detail for e in s.execute(select(AuditEntry).where(AuditEntry.action.in_(
            ["user.create", "user.password_reset"])).order_by(AuditEntry.seq)).scalars()]
    assert [d["temporary"] for d in details] == [True, False, True, False]


def test_a_password_older_than_the_limit_is_due_for_a_change(users):
    rev = user(users, "rev")
    now = rev.password_changed_at if rev.password_changed_at.tzinfo else rev.password_changed_at.replace(
        tzinfo=UTC)
    assert accounts.password_change_due(rev, 90, now=now + timedelta(days=90)) is None
    assert accounts.password_change_due(rev, 90, now=now + timedelta(days=91)) == "expired"
    assert accounts.password_change_due(rev, 0, now=now + timedelta(days=3650)) is None     # 0: never
    with transaction(users) as s:
        accounts.reset_password(s, "rev", "given-2026!", "adm")
    assert accounts.password_change_due(user(users, "rev"), 90) == "temporary"
    refusal = accounts.PasswordChangeRequired("expired", 90)
    assert refusal.message == "您的密码已使用超过 90 天，请先修改密码后再使用系统。"
    assert refusal.code == "password_change_required" and refusal.http_status == 403
