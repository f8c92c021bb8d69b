"""Official status: permalinks and timeline cards name the institution and the author's role,
profiles say "Official profile at <institution>", and an institution's website is verified
(it links back with rel="me"; a task fetches it through an SSRF guard; a local HTTP server on
127.0.0.1 stands in for the website) and then shows a mark."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import services as account_services
from accounts import websites
from accounts.models import Institution
from accounts.tasks import verify_website
from tests.feeds.test_public_pages import publish, url


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    settings.PODIUM_BASE_URL = "https://podium.example"
    settings.PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK = True


@contextmanager
def website(pages: dict[str, tuple[int, dict[str, str], str]]):
    """A local web server answering ``pages`` by path: (status, headers, body)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            status, headers, body = pages.get(self.path, (404, {}, "not here"))
            data = body.encode()
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fresh(institution) -> Institution:
    return Institution.objects.get(id=institution.id)


def with_website(institution, address: str) -> Institution:
    Institution.objects.filter(id=institution.id).update(website=address)
    return fresh(institution)


# Cards and profiles ----------------------------------------------------------------------------


def test_cards_name_the_institution_and_the_authors_role(cast, client):
    a = cast.a
    account_services.update_profile(a.author, handle="m.meier", job_title="Biology teacher")
    post = publish(a.author, a.reviewer, "Field trip on Monday")
    for page in (url(a.institution, f"posts/{post.id}/"), url(a.institution)):
        html = client.get(page).content.decode()
        header = html.split('class="p-author h-card post__author"', 1)[1].split("</header>", 1)[0]
        assert "@m.meier" in header, page
        assert '<span class="p-job-title">Biology teacher</span>' in header, page
        assert "Northside School</" in header, page


def test_a_profile_says_it_is_the_official_profile_at_the_institution(cast, client):
    a = cast.a
    html = client.get(url(a.institution, f"@{a.author.handle}/")).content.decode()
    assert "Official profile at" in html
    assert f'<a class="p-org h-card" href="/{a.institution.slug}/">Northside School</a>' in html


# Website verification --------------------------------------------------------------------------


def test_a_website_that_links_back_with_rel_me_is_verified_and_marked(cast, client):
    a = cast.a
    podium = f"https://podium.example/{a.institution.slug}/"
    with website({"/": (200, {}, f'<p><a href="{podium}" rel="me">Podium</a></p>')}) as site:
        account_services.update_institution(a.institution, website=site + "/")
        assert verify_website.apply(kwargs={"institution_id": a.institution.id}).get() is True
    institution = fresh(a.institution)
    assert institution.website_verified_at is not None
    assert institution.website_check_error == ""
    page = client.get(url(a.institution)).content.decode()
    assert 'class="verified-mark"' in page
    assert f'<a href="{site}/" rel="me noopener">' in page


def test_redirects_are_followed_and_link_elements_count(cast):
    a = cast.a
    podium = f"https://podium.example/{a.institution.slug}"  # without the final slash
    pages = {
        "/": (301, {"Location": "/home"}, ""),
        "/home": (200, {}, f'<html><head><link rel="author me" href="{podium}"></head></html>'),
    }
    with website(pages) as site:
        assert websites.verify_website(with_website(a.institution, site + "/")) is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('<a href="https://podium.example/someone-else/" rel="me">x</a>', 200),
        ('<a href="https://podium.example/a-northside/">no rel</a>', 200),
        ("gone", 500),
    ],
)
def test_a_website_without_the_back_link_is_not_verified(cast, client, body, status):
    a = cast.a
    with website({"/": (status, {}, body)}) as site:
        assert websites.verify_website(with_website(a.institution, site + "/")) is False
    institution = fresh(a.institution)
    assert institution.website_verified_at is None
    assert institution.website_check_error
    assert 'class="verified-mark"' not in client.get(url(a.institution)).content.decode()


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:{port}/",
        "http://10.0.0.7/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "ftp://127.0.0.1/",
        "http://user:secret@127.0.0.1/",
    ],
)
def test_the_guard_refuses_addresses_that_are_not_public(cast, settings, address):
    settings.PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK = False
    with website(
        {"/": (200, {}, "<a rel=me href=https://podium.example/a-northside/>x</a>")}
    ) as site:
        port = site.rsplit(":", 1)[1]
        institution = with_website(cast.a.institution, address.format(port=port))
        assert websites.verify_website(institution) is False
    assert fresh(cast.a.institution).website_check_error


def test_a_redirect_into_the_private_network_is_refused(cast, settings):
    settings.PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK = True
    pages = {"/": (302, {"Location": "http://169.254.169.254/"}, "")}
    with website(pages) as site:
        assert websites.verify_website(with_website(cast.a.institution, site + "/")) is False
    assert "not a public internet address" in fresh(cast.a.institution).website_check_error


def test_changing_the_website_removes_the_mark_until_checked_again(cast):
    a = cast.a
    podium = f"https://podium.example/{a.institution.slug}/"
    with website({"/": (200, {}, f'<a rel="me" href="{podium}">P</a>')}) as site:
        account_services.update_institution(a.institution, website=site + "/")
        websites.verify_website(a.institution)
    assert fresh(a.institution).website_verified_at is not None
    account_services.update_institution(fresh(a.institution), website="https://elsewhere.example/")
    assert fresh(a.institution).website_verified_at is None


def test_an_admin_asks_for_a_check_and_the_task_is_sent_after_commit(
    cast, client, django_capture_on_commit_callbacks
):
    a = cast.a
    account_services.update_institution(a.institution, website="https://northside.example/")
    client.force_login(a.admin.user)
    settings_page = client.get(f"/{a.institution.slug}/manage/settings/").content.decode()
    assert "Check the website now" in settings_page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/{a.institution.slug}/manage/settings/website-check/")
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task (not run here: it would look up a name)
    client.force_login(a.author.user)
    assert client.post(f"/{a.institution.slug}/manage/settings/website-check/").status_code in (
        403,
        404,
    )
