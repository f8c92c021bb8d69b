"""Verifying an institution's website, as Mastodon verifies profile links: the website must link
back to the institution's Podium page with ``rel="me"``. Then the public page marks the link as
verified.

The check fetches an address an admin typed, from inside the installation, so it is guarded
against server-side request forgery: only http and https on their usual ports, every address
the host resolves to must be public (no loopback, private, link-local, multicast or reserved
address; ``PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK`` admits loopback for tests), the connection goes
to the address that was checked (no second lookup that could answer differently), redirects are
followed by hand and checked again, and the time and bytes read are bounded.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit, outbound
from accounts.addresses import absolute_url
from accounts.models import Institution
from accounts.publicread import public_content_changed

MAX_BYTES = 512 * 1024
MAX_REDIRECTS = 3
TIMEOUT_SECONDS = 5.0
ALLOWED_PORTS = {"http": {80, 8080}, "https": {443, 8443}}


class WebsiteCheckFailed(Exception):
    """Why a website could not be verified (the message is shown to admins)."""


@dataclass(frozen=True)
class _Target:
    url: str  # with the checked address in place of the host name
    host: str  # the name to send (Host header and TLS server name)


def podium_page(institution: Institution) -> str:
    """The address the website must link to with rel="me"."""
    return absolute_url(reverse("feeds:institution", args=[institution.slug]))


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.is_loopback:
        return settings.PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK
    return address.is_global and not address.is_multicast


def _target(url: str) -> _Target:
    """The URL to connect to, after the guard: refuses what must not be fetched."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_PORTS or not parts.hostname:
        raise WebsiteCheckFailed(_("The website address must start with http:// or https://."))
    if parts.username or parts.password:
        raise WebsiteCheckFailed(_("The website address must not contain a user name."))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loopback_ok = settings.PODIUM_WEBSITE_CHECK_ALLOW_LOOPBACK
    if port not in ALLOWED_PORTS[parts.scheme] and not loopback_ok:
        raise WebsiteCheckFailed(_("The website must be on the usual port of its scheme."))
    try:
        infos = outbound.lookup(parts.hostname, port)
    except (socket.gaierror, UnicodeError) as error:
        raise WebsiteCheckFailed(_("The website's name could not be found.")) from error
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses or not all(_allowed(address) for address in addresses):
        raise WebsiteCheckFailed(_("The website's address is not a public internet address."))
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{port}"
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return _Target(urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host)


class _RelMeLinks(HTMLParser):
    """The addresses of ``<a>`` and ``<link>`` elements whose rel includes "me"."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("a", "link"):
            return
        values = dict(attrs)
        if "me" in (values.get("rel") or "").lower().split() and values.get("href"):
            self.links.append(urljoin(self.base, values["href"].strip()))


def _normalised(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme.lower(), (parts.hostname or "").lower(), path, "", ""))


def fetch_page(url: str) -> tuple[str, str]:
    """(final address, text) of a web page, fetched through the guard."""
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            target = _target(url)
            request = client.build_request(
                "GET",
                target.url,
                headers={"Host": target.host, "User-Agent": "Podium website check"},
                extensions={"sni_hostname": urlsplit(url).hostname},
            )
            response = client.send(request, stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise WebsiteCheckFailed(
                        _("The website answered with status %(status)s.")
                        % {"status": response.status_code}
                    )
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        break
                return url, body[:MAX_BYTES].decode(response.encoding or "utf-8", "replace")
            finally:
                response.close()
    raise WebsiteCheckFailed(_("The website redirects too often."))


def links_back(page_url: str, text: str, podium_url: str) -> bool:
    """Whether the page links to ``podium_url`` with rel="me"."""
    parser = _RelMeLinks(page_url)
    parser.feed(text)
    wanted = _normalised(podium_url)
    return any(_normalised(link) == wanted for link in parser.links)


def verify_website(institution: Institution) -> bool:
    """Check the website now and record the result (verified or why not); returns verified."""
    website = institution.website
    verified, problem = False, ""
    if website:
        try:
            final, text = fetch_page(website)
            verified = links_back(final, text, podium_page(institution))
            if not verified:
                problem = _('The website has no rel="me" link to %(url)s.') % {
                    "url": podium_page(institution)
                }
        except WebsiteCheckFailed as error:
            problem = str(error)
        except httpx.HTTPError:
            problem = _("The website could not be reached.")
    with transaction.atomic():
        current = Institution.objects.select_for_update().get(id=institution.id)
        if current.website != website:  # changed while we looked: that check decides
            return False
        now = timezone.now()
        before = {"website_verified": current.website_verified_at is not None}
        current.website_verified_at = (current.website_verified_at or now) if verified else None
        current.website_checked_at = now
        current.website_check_error = problem[:200]
        current.save(
            update_fields=["website_verified_at", "website_checked_at", "website_check_error"]
        )
        audit.record(
            current.id,
            "institution.verify_website",
            target=current,
            before=before,
            after={"website_verified": verified, "problem": problem[:200]},
        )
        public_content_changed(current.slug)
    institution.website_verified_at = current.website_verified_at
    institution.website_checked_at = current.website_checked_at
    institution.website_check_error = current.website_check_error
    return verified
