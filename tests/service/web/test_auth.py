"""Sessions end after a spell without activity (等保 connection timeout);
a page's background refresh is not activity."""
import hashlib
import re
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from service import config
from service.db import BrowserSession, User, transaction, utcnow
from service.localtime import as_utc

PASSWORD = "correct horse 电池"


@pytest.fixture
def make_reviewer_app(make_app):
    """``make_app`` with one reviewer, ``rev``."""
    def make(**settings):
        app = make_app(**settings)
        with transaction(app.extensions["gongkai"].sessions) as s:
            s.add(User(username="rev", role="reviewer", password_hash=generate_password_hash(PASSWORD)))
        return app
    return make


@pytest.fixture
def app(make_reviewer_app):
    return make_reviewer_app(session_idle_minutes=2)


def signed_in(app):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "rev", "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def _this_session(client):
    """The server's record of ``client``'s browser session (found by the id in its cookie)."""
    with client.session_transaction() as sess:
        return BrowserSession.sid_sha256 == hashlib.sha256(sess["sid"].encode("utf-8")).hexdigest()


def _sessions_of(client):
    return client.application.extensions["gongkai"].sessions


def idle_for(client, seconds: int, column: str = "last_seen_at") -> None:
    with transaction(_sessions_of(client)) as s:
        s.execute(update(BrowserSession).where(_this_session(client))
                  .values({column: utcnow() - timedelta(seconds=seconds)}))


def seen(client) -> float:
    with transaction(_sessions_of(client), readonly=True) as s:
        last_seen = s.execute(select(BrowserSession.last_seen_at).where(_this_session(client))).scalar_one()
        return as_utc(last_seen).timestamp()


def test_the_default_is_thirty_minutes():
    assert config.Settings().session_idle_minutes == 30


def test_a_page_after_the_idle_limit_leads_to_the_login_page_saying_why(app):
    client = signed_in(app)
    idle_for(client, 100)                       # within two minutes: still signed in
    assert client.get("/review").status_code == 200
    idle_for(client, 121)
    response = client.get("/review")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/review&expired=1"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "长时间未操作，已自动退出，请重新登录。" in page
    # the session is gone: the next visit is an ordinary signed-out one
    assert client.get("/review").headers["Location"] == "/login?next=/review"
    assert "长时间未操作" not in client.get("/login").get_data(as_text=True)


def test_the_api_answers_session_expired_which_the_pages_script_recognises(app):
    client = signed_in(app)
    assert client.get("/api/v1/documents").status_code == 200
    idle_for(client, 121)
    response = client.get("/api/v1/documents")
    assert response.status_code == 401
    assert response.get_json()["error"] == {"code": "session_expired",
                                            "message": "长时间未操作，已自动退出，请重新登录。"}
    # said once; then the caller is the public: public lists answer, staff ones ask to sign in
    assert client.get("/api/v1/documents").status_code == 200
    assert client.get("/api/v1/report").get_json()["error"]["code"] == "unauthorized"


def test_background_refreshes_do_not_count_as_activity(app):
    client = signed_in(app)
    idle_for(client, 90)
    before = seen(client)
    assert client.get("/api/v1/documents", headers={"X-Gongkai-Poll": "1"}).status_code == 200
    assert seen(client) == before                # the upload page's status refresh: not an action
    idle_for(client, 121)
    assert client.get("/api/v1/documents", headers={"X-Gongkai-Poll": "1"}).status_code == 401
    client = signed_in(app)
    idle_for(client, 90)
    assert client.get("/review").status_code == 200
    assert time.time() - seen(client) < 5        # a person's request is: the clock starts again
    idle_for(client, 30)
    before = seen(client)
    client.get("/review")
    assert seen(client) == before                # recorded at most once a minute (not a write per request)


def test_zero_keeps_only_the_twelve_hour_limit(make_reviewer_app):
    app = make_reviewer_app(session_idle_minutes=0)
    client = signed_in(app)
    idle_for(client, 5 * 3600)
    assert client.get("/review").status_code == 200
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600


def test_an_old_password_is_replaced_at_sign_in_before_anything_else(app):
    from datetime import UTC, datetime, timedelta

    with transaction(app.extensions["gongkai"].sessions) as s:
        rev = s.query(User).filter_by(username="rev").one()
        rev.password_changed_at = datetime.now(UTC) - timedelta(days=91)
    client = signed_in(app)
    first = client.get("/review")
    assert first.status_code == 302 and first.headers["Location"] == "/account?next=/review"
    assert "您的密码已使用超过 90 天" in client.get("/account?next=/review").get_data(as_text=True)
    refused = client.get("/api/v1/report")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "password_change_required"
    assert client.get("/api/v1/me").get_json()["password_change"] == "expired"
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/catalogue").get_data(as_text=True)).group(1)
    changed = client.post("/account?next=/review", data={"csrf_token": token, "current_password": PASSWORD,
                                                        "new_password": "fresh-2026!",
                                                        "repeat_password": "fresh-2026!"})
    assert changed.status_code == 302 and changed.headers["Location"] == "/review"
    assert client.get("/review").status_code == 200


# ---------------------------------------------------------------------------
# Sessions live on the server: logout ends them, the 12-hour limit does not slide
# ---------------------------------------------------------------------------

def cookie_of(client) -> str:
    return client.get_cookie("session").value


def test_after_logout_a_copied_cookie_is_worth_nothing(app):
    for logout in ("/api/v1/logout", "/logout"):
        client = signed_in(app)
        stolen = cookie_of(client)
        with client.session_transaction() as sess:
            csrf = sess["csrf"]
        assert client.post(logout, headers={"X-CSRF-Token": csrf}).status_code in (200, 302)
        thief = app.test_client()
        thief.set_cookie("session", stolen)
        assert thief.get("/review").headers["Location"] == "/login?next=/review"
        assert thief.get("/api/v1/me").get_json()["kind"] == "public"
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        ended = s.execute(select(BrowserSession.end_reason)).scalars().all()
        assert ended == ["logout", "logout"]
        from service.db import AuditEntry
        assert s.execute(select(AuditEntry.action).where(AuditEntry.action == "login.logout")).scalars().all() == [
            "login.logout"] * 2


def test_twelve_hours_after_sign_in_the_session_ends_however_busy(app):
    client = signed_in(app)
    idle_for(client, 12 * 3600 - 60, column="created_at")
    assert client.get("/review").status_code == 200          # signed in 11 h 59 min ago, active now
    idle_for(client, 12 * 3600 + 60, column="created_at")
    response = client.get("/review")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        assert s.execute(select(BrowserSession.end_reason)).scalar_one() == "expired"


def test_a_new_password_ends_the_accounts_other_sessions_on_the_server(app):
    laptop, phone = signed_in(app), signed_in(app)
    with laptop.session_transaction() as sess:
        csrf = sess["csrf"]
    changed = laptop.post("/api/v1/account/password",
                          json={"current_password": PASSWORD, "new_password": "fresh-2026!"},
                          headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200
    assert laptop.get("/review").status_code == 200
    assert phone.get("/review").status_code == 302
    with transaction(app.extensions["gongkai"].sessions, readonly=True) as s:
        reasons = sorted(r or "open" for r in s.execute(select(BrowserSession.end_reason)).scalars())
        assert reasons == ["open", "password", "password"]    # the laptop's old one, the phone's; the laptop's new one


# ---------------------------------------------------------------------------
# Logins through a real server: parallel guessing, and names that are no account
# ---------------------------------------------------------------------------

def _logins(sessions, name: str) -> dict[str, int]:
    from collections import Counter

    from service.db import AuditEntry

    with transaction(sessions, readonly=True) as s:
        return dict(Counter(s.execute(select(AuditEntry.action).where(AuditEntry.actor == name)).scalars()))


def test_forty_parallel_wrong_passwords_check_at_most_the_limit(app):
    from live_server import at_once, serving

    with serving(app) as base:
        guesses = at_once([lambda i=i: requests.post(f"{base}/api/v1/login", json={"username": "rev",
                                                     "password": f"guess-{i}"}, timeout=120) for i in range(40)])
        refused = [g.status_code for g in guesses]
        right = requests.post(f"{base}/api/v1/login", json={"username": "rev", "password": PASSWORD}, timeout=60)
    limit = app.extensions["gongkai"].settings.login_max_failures
    counted = _logins(app.extensions["gongkai"].sessions, "rev")
    assert counted == {"login.failed": limit, "login.locked": 40 - limit + 1}, counted   # + the right one
    assert sorted(refused) == [401] * limit + [429] * (40 - limit)
    assert right.status_code == 429 and right.json()["error"]["code"] == "account_locked"


def _median_login_seconds(client, name: str, n: int = 5) -> float:
    times = []
    for i in range(n):
        began = time.perf_counter()
        client.post("/api/v1/login", json={"username": name, "password": f"wrong-{i}"})
        times.append(time.perf_counter() - began)
    return sorted(times)[n // 2]


def test_a_name_that_is_no_account_answers_like_one_in_time_and_words(make_reviewer_app):
    app = make_reviewer_app(login_max_failures=4)
    client = app.test_client()
    real = _median_login_seconds(client, "rev", n=3)
    unknown = _median_login_seconds(client, "nobody", n=3)
    # the same work (a password hash): the unknown name took ~10 times less before
    assert unknown > 0.5 * real, (unknown, real)
    answers = [client.post("/api/v1/login", json={"username": name, "password": "wrong"}).get_json()["error"]
               for name in ("rev", "nobody") for _ in range(2)]
    # rev: two more wrong ones after the three above lock it at the fourth; nobody alike
    assert [a["code"] for a in answers] == ["bad_credentials", "account_locked"] * 2
    assert answers[1]["message"][:20] == answers[3]["message"][:20]
    assert client.post("/api/v1/login", json={"username": "nobody", "password": "x"}).status_code == 429


def test_the_api_login_takes_json_only_and_only_from_this_site(app):
    """Login CSRF: a page on another site must not sign a visitor's browser in to someone's account."""
    form = app.test_client().post("/api/v1/login", data={"username": "rev", "password": PASSWORD},
                                  headers={"Origin": "http://evil.example"})
    assert form.status_code == 403
    assert form.get_json()["error"] == {"code": "foreign_origin",
                                        "message": "请求来自其他网站，已拒绝。请直接在本系统中操作。"}
    plain_form = app.test_client().post("/api/v1/login", data={"username": "rev", "password": PASSWORD})
    assert plain_form.status_code == 415 and plain_form.get_json()["error"]["code"] == "unsupported_media_type"
    body = {"username": "rev", "password": PASSWORD}
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://localhost.evil.example"},
                    {"Referer": "http://evil.example/login"}, {"Origin": "http://evil.example", "Referer": "http://localhost/"},
                    {"Referer": "http://localhost@evil.example/"}):
        refused = app.test_client().post("/api/v1/login", json=body, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "foreign_origin", headers
    for headers in ({}, {"Origin": "http://localhost"}, {"Referer": "http://localhost/login?next=/review"}):
        client = app.test_client()
        assert client.post("/api/v1/login", json=body, headers=headers).status_code == 200, headers
        assert client.get("/api/v1/me").get_json()["name"] == "rev"
