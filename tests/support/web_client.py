"""Signing in through the login page with Flask's test client, as the pages' tests need it
(the Flask tutorial's ``AuthActions``): one place for the form, its CSRF token and the new one."""
from __future__ import annotations

import re

PASSWORD = "correct horse 电池"
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_PAGE_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_of(client) -> str:
    """The CSRF token the pages of ``client``'s session send (``X-CSRF-Token``)."""
    return _PAGE_TOKEN.search(client.get("/catalogue").get_data(as_text=True)).group(1)


def attempt_login(app, username: str, password: str = PASSWORD):
    """Send the login form; return the client and the response, whatever it is."""
    client = app.test_client()
    token = _FORM_TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return client, response


def log_in(app, username: str, password: str = PASSWORD):
    """A client signed in as ``username``."""
    client, response = attempt_login(app, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def log_in_with_token(app, username: str, password: str = PASSWORD):
    """A client signed in as ``username`` and its CSRF token — a new one: signing in starts a new session."""
    client = app.test_client()
    token = _FORM_TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    fresh = csrf_of(client)
    assert fresh != token
    return client, fresh


def api_as(app, username: str, password: str = PASSWORD):
    """A client signed in through the API (``/api/v1/login``), sending its CSRF token on every request."""
    client = app.test_client()
    answer = client.post("/api/v1/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    client.environ_base["HTTP_X_CSRF_TOKEN"] = answer.get_json()["csrf_token"]
    return client
