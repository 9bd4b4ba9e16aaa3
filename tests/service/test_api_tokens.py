"""Department API tokens on SQLite and PostgreSQL: shown once, stored as a digest, listed, revoked."""
import pytest
from sqlalchemy import select

from service import api_tokens
from service.accounts import AccountInputError
from service.api_tokens import token_digest
from service.db import ApiToken, AuditEntry, Department, transaction


@pytest.fixture
def departments(sessions):
    with transaction(sessions) as s:
        s.add_all([Department(code="oa", name="县政府办公室"), Department(code="mzj", name="县民政局")])
    return sessions


def test_tokens_are_created_listed_and_revoked_without_their_secret_kept(departments):
    with transaction(departments) as s:
        first, secret = api_tokens.create(s, "oa", " 协同办公 ", "adm")
        first_id = first.id
        api_tokens.create(s, "mzj", "", "adm")
    with transaction(departments, readonly=True) as s:
        stored = s.get(ApiToken, first_id)
        assert stored.token_sha256 == token_digest(secret) and secret not in stored.token_sha256
        everything, of_oa = api_tokens.listing(s), api_tokens.listing(s, "oa")
    assert [t["department"] for t in everything] == ["mzj", "oa"]  # newest first
    assert of_oa == [{**of_oa[0], "label": "协同办公", "active": True, "revoked_at": None}]
    assert of_oa[0]["created_at"].endswith("+08:00")  # Beijing time

    with pytest.raises(api_tokens.TokenNotFound), transaction(departments) as s:
        api_tokens.create(s, "nope", "", "adm")
    with pytest.raises(AccountInputError), transaction(departments) as s:
        api_tokens.create(s, "oa", "长" * 101, "adm")
    for no_such in (99999, 99999999999, 0, -1):       # beyond the column's range too (the CLI passes any int)
        with pytest.raises(api_tokens.TokenNotFound), transaction(departments) as s:
            api_tokens.revoke(s, no_such, "adm")

    with transaction(departments) as s:
        api_tokens.revoke(s, first_id, "adm")
    with transaction(departments) as s:  # revoking again changes and records nothing
        api_tokens.revoke(s, first_id, "adm")
    with transaction(departments, readonly=True) as s:
        revoked = api_tokens.listing(s, "oa")[0]
        audit = [(e.action, e.detail.get("token_id")) for e in s.execute(
            select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
    assert revoked["active"] is False and revoked["revoked_at"]
    assert audit == [("token.create", first_id), ("token.create", first_id + 1), ("token.revoke", first_id)]
