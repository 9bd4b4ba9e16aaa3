"""What a request sends, read in one place: ids in URLs, numbers and days in query strings, JSON bodies.

A malformed or out-of-range value is the sender's mistake: it gets a 4xx with the usual error
body (``service.errors.InvalidRequest``), never a server error. Each limit is where a value
would otherwise break further down:

- an id above a signed 32-bit integer names no row, but PostgreSQL refuses to compare an
  ``integer`` column with it and SQLite's driver to bind one above 64 bits: the ``id`` URL
  converter (``<id:document_id>``) does not match it, so the route answers 404;
- a page number or a year past these bounds overflows an OFFSET or ``datetime``;
- a day before 1900 or after 9998 has a Beijing midnight outside Python's dates: it is read as
  the nearest day in range, which selects the same documents;
- a JSON body must be an object, and no text in a request may hold a NUL (PostgreSQL stores
  none) or half of a UTF-16 surrogate pair (no encoding can store it).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter

from service.errors import InvalidRequest, JsonRequired
from service.values import INT32_MAX, parse_day, parse_int, unstorable

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id, 0 to 2³¹−1; anything larger does not match the route (404)."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        super().__init__(map, max=INT32_MAX)


def query_int(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = INT32_MAX) -> int | None:
    """The query parameter ``name`` as a whole number in range; ``default`` when absent or empty."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    try:
        return parse_int(raw, minimum, maximum)
    except ValueError:
        raise InvalidRequest(what=f"{name} 应为 {minimum}–{maximum} 之间的整数") from None


def query_day(name: str) -> date | None:
    """The query parameter ``name`` as a Beijing day (YYYY-MM-DD); None when absent or empty."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    try:
        return parse_day(raw)
    except ValueError:
        raise InvalidRequest(what=f"{name} 应为 YYYY-MM-DD") from None


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        if unstorable(value):
            raise InvalidRequest(what="文字中含有空字符或无效字符")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def json_object(*, required: bool = False) -> dict[str, Any]:
    """The request's JSON body, which must be an object.

    Without a body: ``{}``, unless ``required``. A body of another media type (a form) is
    refused with 415, one that is not a JSON object (``[]``, ``-1``, ``"x"``, broken JSON) with 422.
    """
    if not request.is_json:
        # a form's body may have been read already (``refuse_unstorable_text``): its length says it was there
        if required or request.content_length or request.get_data(cache=True).strip():
            raise JsonRequired()
        return {}
    if not request.get_data(cache=True).strip() and not required:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidRequest(what="请求正文应为 JSON 对象")
    _check_text(data)
    return data


def text(data: dict[str, Any], name: str, default: str | None = "") -> str | None:
    """The body field ``name`` as text: absent or null is ``default``; a number, list or object is refused."""
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidRequest(what=f"{name} 应为字符串")
    return value


def refuse_unstorable_text() -> None:
    """Before a route runs: no NUL or unpaired surrogate in its path, query string or form fields."""
    if request.url_rule is None:
        return   # no route matched: routing answers 404/405
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in FORM_TYPES:
        values += [*request.form.keys(), *request.form.values()]
    if any(unstorable(v) for v in values):
        raise InvalidRequest(what="文字中含有空字符或无效字符")


def install(app) -> None:
    """The ``id`` URL converter (before any route is added) and the check of text in every request."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_unstorable_text)
