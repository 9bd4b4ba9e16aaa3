"""Errors as HTTP responses: ``{"error": {"code", "message"}}`` with the right status."""
from __future__ import annotations

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from service.errors import GongkaiError

log = logging.getLogger(__name__)

#: Status by code where the error class does not say (``http_status``).
STATUS_BY_CODE = {
    "invalid_transition": 409,
    "file_too_large": 413,
    "empty_file": 422,
    "original_missing": 500,
}
HTTP_MESSAGES = {
    404: ("not_found", "页面或资源不存在。"),
    405: ("method_not_allowed", "不支持此请求方法。"),
    413: ("file_too_large", "文件超过大小上限，请压缩或拆分后再上传。"),
    400: ("bad_request", "请求格式有误。"),
}


def error_response(code: str, message: str, status: int, headers: dict | None = None,
                   extra: dict[str, str] | None = None):
    return jsonify({"error": {"code": code, "message": message, **(extra or {})}}), status, headers or {}


def http_headers(exc: HTTPException) -> dict[str, str]:
    """The headers an HTTP error must keep in our own body: ``Allow`` on a 405 (RFC 9110)."""
    valid = getattr(exc, "valid_methods", None)
    return {"Allow": ", ".join(valid)} if valid else {}


def register(app) -> None:
    @app.errorhandler(GongkaiError)
    def _gongkai(exc: GongkaiError):
        status = getattr(exc, "http_status", None) or STATUS_BY_CODE.get(exc.code, 422)
        if status >= 500:
            log.error("%s: %s", exc.code, exc.message_en_text)
        return error_response(exc.code, exc.message, status, extra=exc.extra())

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code, message = HTTP_MESSAGES.get(exc.code or 500, ("http_error", exc.description or "请求失败。"))
        return error_response(code, message, exc.code or 500, http_headers(exc))

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("unhandled error")
        return error_response("internal_error", "服务器内部错误，请稍后重试或联系管理员。", 500)
