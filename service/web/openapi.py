"""The OpenAPI 3.1 document for /api/v1, served at /api/v1/openapi.json.

Parameters say what the server accepts (``service.web.inputs``): ids and page numbers are integers
from 1 to 2³¹−1, days are ``format: date`` (Beijing days), years are integers of the years a
report covers; a body, where there is one, is a JSON object (415 for another media type, 422
for JSON that is not an object).
"""
from __future__ import annotations

from service.report import YEARS
from service.states import STATE_NAMES_ZH
from service.values import INT32_MAX, INT64_MAX

ERROR = {"$ref": "#/components/schemas/Error"}
#: An id (document, token) or a page number.
ID = {"type": "integer", "format": "int32", "minimum": 1, "maximum": INT32_MAX}
DAY = {"type": "string", "format": "date"}
YEAR = {"type": "integer", "minimum": YEARS.start, "maximum": YEARS.stop - 1}


def _op(summary: str, roles: str, *, body: dict | None = None, ok: int = 200, params: list | None = None,
        errors: tuple[int, ...] = (401, 403, 404), required_body: bool = True) -> dict:
    op: dict = {"summary": summary, "description": f"Allowed: {roles}.",
                "responses": {str(ok): {"description": "OK"}}}
    for status in errors:
        op["responses"][str(status)] = {"description": "Error", "content": {"application/json": {"schema": ERROR}}}
    if body:
        op["requestBody"] = {"required": required_body, "content": body}
    if params:
        op["parameters"] = params
    return op


def _json(props: dict, required: list[str] | None = None) -> dict:
    return {"application/json": {"schema": {"type": "object", "properties": props, "required": required or []}}}


DOC_ID = [{"name": "document_id", "in": "path", "required": True, "schema": ID}]
QUERY = [{"name": n, "in": "query", "schema": schema} for n, schema in
         (("status", {"enum": list(STATE_NAMES_ZH)}), ("category", {"type": "string"}),
          ("department", {"type": "string"}), ("q", {"type": "string", "maxLength": 100}),
          ("since", DAY), ("until", DAY), ("page", ID),
          ("per_page", {"type": "integer", "minimum": 1, "maximum": 200}))]


def spec() -> dict:
    s = {"type": "string"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "gongkai API", "version": "1",
                 "description": "政府信息公开 document intake, review and publication."},
        "components": {
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": s, "message": s}, "required": ["code", "message"]}}}},
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"},
                                "token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"session": []}, {"token": []}, {}],
        "paths": {
            "/api/v1/login": {"post": _op("Log in (browser session); 429 account_locked after repeated wrong "
                                          "passwords", "anyone", body=_json(
                {"username": s, "password": s}, ["username", "password"]), errors=(401, 403, 415, 422, 429))},
            "/api/v1/logout": {"post": _op("Log out", "anyone", errors=())},
            "/api/v1/account/password": {"post": _op(
                "Change one's own password (knowing the current one); while the password is temporary "
                "(must_change_password at login) every other staff call answers 403 password_change_required",
                "signed-in staff", body=_json({"current_password": s, "new_password": s},
                                              ["current_password", "new_password"]), errors=(401, 403, 415, 422))},
            "/api/v1/me": {"get": _op("Who am I", "anyone", errors=())},
            "/api/v1/documents": {
                "get": _op("List visible documents (q: words, parts of words, numbers or a 文号; an unknown "
                           "status, category or department is 422)", "everyone (the public sees published ones)",
                           params=QUERY, errors=(422,)),
                "post": _op("Upload a file (multipart, field 'file'); 202 with the document id",
                            "uploader (own department), department token, admin (with 'department')", ok=202,
                            body={"multipart/form-data": {"schema": {"type": "object", "properties": {
                                "file": {"type": "string", "format": "binary"}, "department": s}}}},
                            errors=(401, 403, 413, 415, 422)),
            },
            "/api/v1/documents/{document_id}": {"get": _op("One document", "whoever may see it", params=DOC_ID)},
            "/api/v1/documents/{document_id}/original": {"get": _op(
                "Download the original",
                "whoever may see it; the public not when it holds personal data (403 original_not_public)",
                params=DOC_ID)},
            "/api/v1/documents/{document_id}/public-file": {"get": _op(
                "Download what the public gets: the original, or for a document holding personal data its "
                "去标识化 PDF (masked values painted over in the page images, no text layer); inline=1 shows it",
                "whoever may see it (reviewers preview it before publishing)", params=DOC_ID,
                errors=(401, 403, 404, 503))},
            "/api/v1/documents/{document_id}/job": {"get": _op("Processing job status",
                                                               "signed-in users who may see it", params=DOC_ID)},
            "/api/v1/documents/{document_id}/review": {"post": _op(
                "confirm / correct (with category) / reject (with reason)", "reviewer, admin", params=DOC_ID,
                body=_json({"action": {"enum": ["confirm", "correct", "reject"]}, "category": s, "reason": s},
                           ["action"]), errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/documents/{document_id}/acknowledge-pii": {"post": _op(
                "Acknowledge personal information before publishing (audited)", "reviewer, admin", params=DOC_ID,
                body=_json({"note": s}), required_body=False, errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/documents/{document_id}/masks": {"post": _op(
                "Change the public copy's masks: add a text (a name), remove an added one, or exempt a number "
                "that is not personal (with a reason); the personal information is then confirmed again (audited)",
                "reviewer, admin", params=DOC_ID,
                body=_json({"add": s, "remove": s, "exempt": s, "reason": s}), errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/documents/{document_id}/disclosure": {"post": _op(
                "Set the 公开属性: active (主动公开), on_request (依申请公开) or not_disclosed (不予公开), "
                "the last two with a reason code that fits (GET /api/v1/disclosure lists them; 422 "
                "disclosure_invalid); only active documents can be published (409 not_active_disclosure); "
                "audited review.disclosure",
                "reviewer, admin", params=DOC_ID,
                body=_json({"attribute": {"enum": ["active", "on_request", "not_disclosed"]}, "reason": s, "note": s},
                           ["attribute"]), errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/disclosure": {"get": _op("The 公开属性 and their reasons from the 条例", "signed-in staff",
                                              errors=(401,))},
            "/api/v1/documents/{document_id}/validity": {"post": _op(
                "Set the 有效性 of a rule: status effective / amended / repealed / expired (null clears), "
                "effective_from, expires_on, ends_on (required when it ended), changed_by (索引号 or 文号); "
                "also after publication; audited review.validity (422 validity_invalid)",
                "reviewer, admin", params=DOC_ID,
                body=_json({"status": {"enum": ["effective", "amended", "repealed", "expired", None]},
                            "effective_from": s, "expires_on": s, "ends_on": s, "changed_by": s, "note": s}),
                errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/documents/{document_id}/fields": {"post": _op(
                "Correct the title and the 公文 fields (issuer, doc_number, date, signer, addressee; an empty "
                "value clears a field, an empty title is refused: 422 title_required); audited review.fields",
                "reviewer, admin", params=DOC_ID,
                body=_json({"title": s, "issuer": s, "doc_number": s, "date": s, "signer": s, "addressee": s}),
                errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/documents/{document_id}/publish": {"post": _op(
                "Publish into the public catalogue; refused for 密级, unacknowledged PII, without a cleared "
                "保密审查 where a person must judge (409 secrecy_review_required) and, under the two-person rule, "
                "by the reviewer who cleared it (409 two_person_required)", "reviewer, admin",
                params=DOC_ID, errors=(401, 403, 404, 409))},
            "/api/v1/documents/{document_id}/secrecy-review": {"post": _op(
                "Record a 保密审查 (secrecy review): result cleared / not_cleared, the pages read by eye in the "
                "original, a note. A cleared review must list every page the machine could not read (422 "
                "pages_not_read); publishing needs a cleared one", "reviewer, admin", params=DOC_ID,
                body=_json({"result": {"enum": ["cleared", "not_cleared"]},
                            "pages_read": {"type": "array", "items": ID}, "note": s}, ["result"]),
                errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/documents/{document_id}/withdraw": {"post": _op(
                "Withdraw a published document", "reviewer, admin", params=DOC_ID,
                body=_json({"reason": s}, ["reason"]), errors=(401, 403, 404, 409, 415, 422))},
            "/api/v1/departments/{code}/tokens": {
                "post": _op("Create a department API token (shown once)", "admin", ok=201,
                            params=[{"name": "code", "in": "path", "required": True, "schema": s}],
                            body=_json({"label": s}), required_body=False, errors=(401, 403, 404, 415, 422)),
                "get": _op("List a department's API tokens (label, created, revoked; never the token)", "admin",
                           params=[{"name": "code", "in": "path", "required": True, "schema": s}])},
            "/api/v1/tokens/{token_id}/revoke": {"post": _op(
                "Revoke an API token: it is refused from now on", "admin",
                params=[{"name": "token_id", "in": "path", "required": True, "schema": ID}])},
            "/api/v1/model-quality": {"get": _op(
                "How each model version's suggestions fared on reviewed documents (coverage, precision, macro-F1, "
                "intervals, goals, corrections); 'since' bounds the review day", "reviewer, admin",
                params=[{"name": "since", "in": "query", "schema": DAY}], errors=(401, 403, 422))},
            "/api/v1/report": {"get": _op(
                "The year's disclosure statistics for the annual report (by category, department and month)",
                "reviewer, admin", params=[{"name": "year", "in": "query", "schema": YEAR}],
                errors=(401, 403, 422))},
            "/api/v1/audit": {"get": _op(
                "The audit log, newest first, a page at a time: filter by actor, kind ('user' is user.*, or one "
                "action), document and Beijing days; 'before' (next_before of the last page) pages on", "admin",
                params=[{"name": name, "in": "query", "schema": schema} for name, schema in (
                    ("actor", s), ("kind", s), ("document", ID), ("since", DAY), ("until", DAY),
                    ("before", {"type": "integer", "minimum": 1, "maximum": INT64_MAX}),
                    ("limit", {"type": "integer", "minimum": 1, "maximum": INT64_MAX}))],
                errors=(401, 403, 422))},
            "/api/v1/openapi.json": {"get": _op("This document", "anyone", errors=())},
        },
    }
