"""The error hierarchy: every error a user can see has a stable code and a plain message.

Codes are stable snake_case strings that clients may switch on. Messages exist in
Simplified Chinese (shown to clerks) and English (logs, API consumers).
"""
from __future__ import annotations


class GongkaiError(Exception):
    """Base of all expected errors. Subclasses set ``code`` and both messages.

    ``message_zh`` / ``message_en`` may contain ``{name}`` placeholders filled from
    the keyword arguments given to the constructor.
    """

    code = "error"
    message_zh = "处理失败。"
    message_en = "Processing failed."

    def __init__(self, detail: str | None = None, **params: object) -> None:
        self.detail = detail
        self.params = params
        super().__init__(self.message_en_text)

    def _fill(self, template: str) -> str:
        try:
            return template.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return template

    @property
    def message_zh_text(self) -> str:
        return self._fill(self.message_zh)

    @property
    def message_en_text(self) -> str:
        text = self._fill(self.message_en)
        return f"{text} ({self.detail})" if self.detail else text

    @property
    def message(self) -> str:
        """The message a clerk reads (Chinese)."""
        return self.message_zh_text

    def extra(self) -> dict[str, str]:
        """Fields a client may use besides code and message (e.g. a document's state now)."""
        return {}

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message_zh_text, "message_en": self.message_en_text,
                **self.extra()}


class ConfigError(GongkaiError):
    code = "config_error"
    message_zh = "配置错误：{what}"
    message_en = "Configuration error: {what}"


class InvalidRequest(GongkaiError):
    """What a request sent cannot be used: a malformed or out-of-range value, a body that is not a JSON object."""

    code = "bad_request"
    http_status = 422
    message_zh = "请求参数有误：{what}"
    message_en = "Invalid request: {what}"


class JsonRequired(InvalidRequest):
    """A body that should be JSON came as something else (a form, plain text)."""

    code = "unsupported_media_type"
    http_status = 415
    message_zh = "请求正文应为 JSON 对象（Content-Type: application/json）。"
    message_en = "The request body must be a JSON object (Content-Type: application/json)."
