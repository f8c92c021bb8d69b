"""Name lookups for requests Podium makes to addresses people type (webhook endpoints, website
checks, network servers). Each caller checks the answers against its own guard; this module only
decides whether a lookup may leave the machine at all.

With ``PODIUM_RESOLVE_LOOPBACK_ONLY`` on (the test suite and the servers it starts), only
``localhost`` and address literals are looked up; any other
name fails as unknown without a query, so a fuzzed or mistyped address in a test never reaches a
DNS server.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings


def _is_loopback_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    if name == "localhost":  # the hosts file answers; subdomains of it would go to DNS
        return True
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True  # a literal needs no query; the caller's guard judges the address


def lookup(host: str, port: int) -> list[tuple]:
    """``socket.getaddrinfo`` for a stream connection, refused off loopback when configured."""
    if settings.PODIUM_RESOLVE_LOOPBACK_ONLY and not _is_loopback_name(host):
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: lookups off loopback are switched off")
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
