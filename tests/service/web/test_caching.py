"""service/web/caching.py: public catalogue pages answer 304 while nothing changed, and change
their ETag when something is published."""
from service import review
from service.db import Document, transaction
from tests.service.web.test_pages import log_in, world  # noqa: F401  (the fixture)


def test_public_pages_are_cached_until_the_catalogue_changes(app, world):  # noqa: F811
    public = app.test_client()
    first = public.get("/catalogue")
    tag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=60"
    assert "Cookie" in first.headers["Vary"] and first.headers["Last-Modified"]
    again = public.get("/catalogue", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    other = public.get("/catalogue?page=2", headers={"If-None-Match": tag})
    assert other.status_code == 200      # another URL, another tag
    with transaction(world["sessions"]) as s:   # publishing changes what the catalogue shows
        review.publish(s, s.get(Document, world["docs"]["b_approved"]), "rev")
    changed = public.get("/catalogue", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert f'href="/catalogue/{world["docs"]["b_approved"]}"' in changed.get_data(as_text=True)
    item = public.get(f"/catalogue/{world['docs']['b_approved']}")
    assert item.status_code == 200 and item.headers["ETag"]
    assert public.get(f"/catalogue/{world['docs']['b_approved']}",
                      headers={"If-None-Match": item.headers["ETag"]}).status_code == 304
    missing = public.get(f"/catalogue/{world['docs']['a_pending']}")   # not public: no tag, no cache
    assert missing.status_code == 404 and "ETag" not in missing.headers


def test_signed_in_pages_are_never_cached_or_answered_304(app, world):  # noqa: F811
    public_tag = app.test_client().get("/catalogue").headers["ETag"]
    reviewer = log_in(app, "rev")
    page = reviewer.get("/catalogue", headers={"If-None-Match": public_tag})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store" and "ETag" not in page.headers
    assert "rev同志" in page.get_data(as_text=True)


def test_a_public_page_is_composed_once_until_the_catalogue_changes(app, world):  # noqa: F811
    from sqlalchemy import event

    public = app.test_client()
    engine = app.extensions["gongkai"].engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    first = public.get("/catalogue?page=1")
    composed = len(statements)
    again = public.get("/catalogue?page=1")          # no ETag sent: the kept page, as it was
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    read_again = [st for st in statements[composed:] if st != "BEGIN"]
    assert composed > 3 and 1 <= len(read_again) <= 2 and all("audit" in st for st in read_again), read_again
    with transaction(world["sessions"]) as s:
        review.publish(s, s.get(Document, world["docs"]["b_approved"]), "rev")
    changed = public.get("/catalogue?page=1").get_data(as_text=True)
    assert f'href="/catalogue/{world["docs"]["b_approved"]}"' in changed
