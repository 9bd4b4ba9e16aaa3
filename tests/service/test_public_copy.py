"""去标识化: what the public gets of a published 公示 with personal numbers is its masked public copy.

The real 临时救助 公示 of ../shared/scans (030: three 身份证 numbers and three mobile numbers) is
uploaded as its image-only scan (read by OCR) and as its .doc (read through LibreOffice), reviewed
and published through the API exactly as today (review, acknowledge-pii, 保密审查, publish by a
second person). Afterwards no full number appears in the public page, the public API (item and
list), the catalogue, search, or the downloads the public may make — the public PDF, read by text
extraction and by OCR of its page images; staff still see the original.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from public_pdf import read_back
from web_client import PASSWORD, api_as
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from service.analysis.privacy import scan_text
from service.db import AuditEntry, Department, Document, User, transaction
from service.processing import ingest
from service.receiving import receive
from testenv import DATA

SCANS = DATA / "shared" / "scans"
TRUTH = next(json.loads(line) for line in (SCANS / "truth.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(line)["file"] == "030")
#: The personal numbers the 公示 prints (the scanner's own reading of the true text).
NUMBERS = [value for kind, value, _s, _e in scan_text(TRUTH["text"]) if kind in ("resident_id", "mobile")]


def test_the_notice_prints_three_ids_and_three_mobiles():
    assert [len(n) for n in NUMBERS] == [18, 11] * 3


@pytest.fixture
def published(make_app, libreoffice):
    app = make_app()
    rt = app.extensions["gongkai"]
    with transaction(rt.sessions) as s:
        dept = Department(code="cgz", name="城关镇人民政府")
        s.add(dept)
        s.add_all([User(username=name, role="reviewer", password_hash=generate_password_hash(PASSWORD))
                   for name in ("rev1", "rev2")])
        s.flush()
        dept_id = dept.id
    ids = {}
    for kind, path in (("scan", SCANS / "scan" / "030.pdf"), ("doc", SCANS / "doc" / "030.doc")):
        with open(path, "rb") as fh:
            ids[kind] = receive(rt.sessions, rt.storage, department_id=dept_id, filename=path.name, stream=fh,
                                uploaded_by="经办人").document_id
        assert ingest(rt, ids[kind]) == "pending_review"
    rev1, rev2 = api_as(app, "rev1"), api_as(app, "rev2")
    for doc in ids.values():
        stored = rev1.get(f"/api/v1/documents/{doc}").get_json()
        assert {f["kind"] for f in stored["findings"]} >= {"resident_id", "mobile"}
        assert all(n in stored["text"] for n in NUMBERS)                    # staff read the document as it is
        assert all(n not in stored["public_text"] for n in NUMBERS)         # and see what the public will
        assert rev1.post(f"/api/v1/documents/{doc}/review",
                         json={"action": "correct", "category": "其他"}).status_code == 200
        assert rev1.post(f"/api/v1/documents/{doc}/acknowledge-pii", json={"note": "遮盖后公示"}).status_code == 200
        # a name is personal too: the reviewer masks it; the masks changed, they are confirmed again
        masked = rev1.post(f"/api/v1/documents/{doc}/masks", json={"add": "赵德明"})
        assert masked.status_code == 200 and masked.get_json()["pii_acknowledged_at"] is None
        assert "赵**，公民身份号码410522********0036" in masked.get_json()["public_text"]
        not_there = rev1.post(f"/api/v1/documents/{doc}/masks", json={"exempt": "13800138000", "reason": "热线"})
        assert not_there.status_code == 422 and not_there.get_json()["error"]["code"] == "mask_invalid"
        no_reason = rev1.post(f"/api/v1/documents/{doc}/masks", json={"exempt": NUMBERS[1]})
        assert no_reason.status_code == 422 and no_reason.get_json()["error"]["code"] == "reason_required"
        early = rev2.post(f"/api/v1/documents/{doc}/publish")
        assert early.status_code == 409 and early.get_json()["error"]["code"] == "pii_not_acknowledged"
        assert rev1.post(f"/api/v1/documents/{doc}/acknowledge-pii", json={"note": "含姓名遮盖"}).status_code == 200
        assert rev1.post(f"/api/v1/documents/{doc}/secrecy-review", json={
            "result": "cleared", "pages_read": list(range(1, (stored["pages"] or 0) + 1)),
            "note": "公示名单，号码已遮盖"}).status_code == 200
        answer = rev2.post(f"/api/v1/documents/{doc}/publish")
        assert answer.status_code == 200, answer.get_json()
    return {"app": app, **ids}



def full_numbers_in(text: str) -> list[str]:
    return [n for n in NUMBERS if n in text]


def test_no_full_number_reaches_the_public_by_any_page_or_call(published):
    app = published["app"]
    public = app.test_client()
    for doc in (published["scan"], published["doc"]):
        item = public.get(f"/api/v1/documents/{doc}")
        assert item.status_code == 200
        view = item.get_json()
        assert full_numbers_in(json.dumps(view, ensure_ascii=False)) == []
        assert "410522********0036" in view["text"] and "159****4003" in view["text"]   # masked, still readable
        assert "赵德明" not in json.dumps(view, ensure_ascii=False) and "赵**" in view["text"]
        assert view["original_public"] is False
        page = public.get(f"/catalogue/{doc}").get_data(as_text=True)
        assert full_numbers_in(page) == [] and "410522********1568" in page and "本文已作去标识化处理" in page
        # the original holds the numbers: not for the public, by the catalogue or the API ...
        api_refused = public.get(f"/api/v1/documents/{doc}/original")
        assert api_refused.status_code == 403
        assert api_refused.get_json()["error"]["code"] == "original_not_public"
        # ... which give its public PDF instead: the same file by both
        download = public.get(f"/catalogue/{doc}/download")
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        assert quote("030（公开版）.pdf") in download.headers["Content-Disposition"]
        assert public.get(view["public_file"]).data == download.data
        assert 'data-testid="public-pdf"' in page
    listing = public.get("/api/v1/documents").get_data(as_text=True)
    catalogue = public.get("/catalogue").get_data(as_text=True)
    assert full_numbers_in(listing) == [] and full_numbers_in(catalogue) == []
    assert "下载公开版" in catalogue
    for number in NUMBERS:   # the catalogue's search finds nobody by a number
        results = public.get("/catalogue", query_string={"q": number}).get_data(as_text=True)
        assert "没有找到符合条件的公开信息" in results       # (the search box echoes what was typed)
        assert not any(f'href="/catalogue/{doc}"' in results for doc in (published["scan"], published["doc"]))
    for name in ("赵德明", "赵德明 临时救助"):   # nor by the name the reviewer masked
        results = public.get("/catalogue", query_string={"q": name}).get_data(as_text=True)
        assert not any(f'href="/catalogue/{doc}"' in results for doc in (published["scan"], published["doc"])), name
    found = public.get("/catalogue", query_string={"q": "临时救助"}).get_data(as_text=True)
    assert all(f'href="/catalogue/{doc}"' in found for doc in (published["scan"], published["doc"]))


def test_the_masks_a_reviewer_changed_are_in_the_audit_log(published):
    sessions = published["app"].extensions["gongkai"].sessions
    for doc in (published["scan"], published["doc"]):
        with transaction(sessions, readonly=True) as s:
            entries = s.execute(select(AuditEntry).where(AuditEntry.document_id == doc)).scalars().all()
            changes = [e.detail for e in entries if e.action == "privacy.masks"]
            assert changes == [{"add": "赵德明"}] and sum(e.action == "privacy.acknowledge" for e in entries) == 2


def test_staff_still_read_and_download_the_original(published):
    staff = api_as(published["app"], "rev1")
    view = staff.get(f"/api/v1/documents/{published['doc']}").get_json()
    assert full_numbers_in(view["text"]) == NUMBERS
    original = staff.get(f"/api/v1/documents/{published['doc']}/original")
    assert original.status_code == 200 and original.data[:4] == b"\xd0\xcf\x11\xe0"   # the .doc as uploaded


def test_the_public_pdf_shows_the_pages_with_every_personal_number_painted_over(published):
    public = published["app"].test_client()
    for doc in (published["scan"], published["doc"]):
        pdf = public.get(f"/catalogue/{doc}/download").data
        layer, compact = read_back(pdf)
        assert layer.strip() == ""                           # no text layer: nothing to copy out from under a box
        assert full_numbers_in(compact) == []                # and OCR of the pages reads no whole number
        assert "临时救助" in compact and "410522" in compact  # the page is there; only the middles are covered
        assert "赵德明" not in compact
        staff = api_as(published["app"], "rev1").get(f"/api/v1/documents/{doc}").get_json()
        assert staff["original_public"] is False


def test_the_public_pdf_is_made_once_and_kept_with_the_originals(published):
    app = published["app"]
    rt = app.extensions["gongkai"]
    public = app.test_client()
    first = public.get(f"/catalogue/{published['doc']}/download").data
    with transaction(rt.sessions, readonly=True) as s:
        kept = s.get(Document, published["doc"]).public_copy
    assert kept["method"] == "redacted" and kept["pages"] == 1 and kept["covered"] >= 7   # 3 IDs, 3 mobiles, a name
    assert rt.storage.open(kept["sha256"]).read() == first
    assert public.get(f"/catalogue/{published['doc']}/download").data == first
    with transaction(rt.sessions, readonly=True) as s:
        assert s.get(Document, published["doc"]).public_copy == kept                        # served, not made again
