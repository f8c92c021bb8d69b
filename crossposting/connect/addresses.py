"""The guard on server addresses a member types (a Mastodon instance, a Bluesky server): Podium
connects to them from inside the installation, so only https on a public address is accepted
(``PODIUM_CONNECT_ALLOW_LOOPBACK`` admits http on loopback for local fakes in tests).

The address is checked when it is typed: names are resolved and every address must be public.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from accounts import outbound
from crossposting.connect.errors import InvalidServerAddress, ServerUnreachable

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


def _loopback_allowed() -> bool:
    return bool(settings.PODIUM_CONNECT_ALLOW_LOOPBACK)


def _is_loopback_literal(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def server_url(text: str) -> str:
    """``https://host[:port]`` of what a member typed (an address, or a bare host name such as
    ``mastodon.social`` or ``@user@mastodon.social``), or InvalidServerAddress."""
    value = (text or "").strip()
    if not value:
        raise InvalidServerAddress(_("Enter the server's address, like mastodon.social."))
    if "://" not in value:
        value = value.rsplit("@", 1)[-1]  # "@name@instance" names the instance after the @
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise InvalidServerAddress(_("This is not a server address.")) from error
    host = (parts.hostname or "").lower()
    if parts.username or parts.password or not host:
        raise InvalidServerAddress(_("This is not a server address."))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidServerAddress(
            _("Enter only the server's address (like mastodon.social), without a path.")
        )
    if _is_loopback_literal(host):
        if not _loopback_allowed() or parts.scheme not in ("http", "https"):
            raise InvalidServerAddress(_("This server address is not on the public internet."))
        literal = "127.0.0.1" if host == "localhost" else host
        netloc = f"[{literal}]" if ":" in literal else literal
        return f"{parts.scheme}://{netloc}" + (f":{port}" if port else "")
    if parts.scheme != "https":
        raise InvalidServerAddress(_("The server must be reached over https."))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not address.is_global:
            raise InvalidServerAddress(_("This server address is not on the public internet."))
    elif not _HOST.match(host):
        raise InvalidServerAddress(_("This is not a server address."))
    return f"https://{host}" + (f":{port}" if port and port != 443 else "")


# Top-level names that never resolve on the internet (RFC 2606, 6761, 6762): refused without a
# lookup.
RESERVED_TOP_LEVEL = frozenset({"example", "test", "invalid", "localhost", "local", "internal"})
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def check_public(url: str) -> None:
    """Refuse a server whose name resolves to a loopback, private or reserved address (unless
    loopback is allowed for tests and the address is loopback)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _is_loopback_literal(host) and _loopback_allowed():
        return
    reserved_domain = any(host == d or host.endswith("." + d) for d in RESERVED_DOMAINS)
    if host.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL or reserved_domain:
        raise ServerUnreachable(
            _("There is no server at %(server)s. Check the address.") % {"server": host}
        )
    try:
        infos = outbound.lookup(host, parts.port or 443)
    except (socket.gaierror, UnicodeError) as error:
        raise ServerUnreachable(
            _("There is no server at %(server)s. Check the address.") % {"server": host}
        ) from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise InvalidServerAddress(_("This server address is not on the public internet."))


def checked_server_url(text: str) -> str:
    """``server_url`` and ``check_public`` together: the address Podium may connect to."""
    url = server_url(text)
    check_public(url)
    return url
