"""Links: URL shorteners that hide their destination; domains the policy denies or leaves out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from confusable_homoglyphs.confusables import confusables_data
from django.utils.translation import gettext_lazy as _

from moderation.checks.base import Check, CheckContext, Finding
from moderation.checks.text import PreparedText

SHORTENERS = (
    "bit.ly", "bitly.com", "bit.do", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "v.gd",
    "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "shorturl.com", "tiny.cc", "rb.gy", "s.id",
    "t.ly", "lnkd.in", "bl.ink", "short.io", "shorte.st", "adf.ly", "x.co", "qr.net", "trib.al",
    "dlvr.it", "fb.me", "amzn.to", "tr.im", "soo.gd", "clck.ru", "t1p.de", "kurzelinks.de",
    "kurzlink.de", "shorturl.de", "tiny.one", "u.to", "snip.ly", "tny.im", "1url.com", "surl.li",
    "urlz.fr", "qrco.de", "t.me", "forms.gle", "g.co", "bitly.ws", "shorturl.gg", "linktr.ee",
)  # fmt: skip


@lru_cache(maxsize=1)
def _skeleton_table() -> dict[int, str]:
    """Non-ASCII letters that look like an ASCII letter or digit, from Unicode's confusables."""
    table: dict[int, str] = {}
    for char, homoglyphs in confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for glyph in homoglyphs:
            target = glyph["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[ord(char)] = target.lower()
                break
    # The dots that stand in for a full stop in a host name.
    for dot in "\u2024\uff0e\u3002\u00b7\u2027":
        table[ord(dot)] = "."
    return table


def skeleton(folded: str) -> str:
    """The folded text with look-alike letters replaced by ASCII (same length)."""
    if folded.isascii():
        return folded
    return folded.translate(_skeleton_table())


# ASCII look-alikes too: "tinyurI.com" (capital i, folded to "i"), "bit.1y", "g00.gl".
_LOOKALIKE = {"l": "[l1i|]", "i": "[i1l|]", "o": "[o0]", "0": "[o0]", "1": "[1li|]"}


def _lookalike(host: str) -> str:
    return "".join(_LOOKALIKE.get(char, re.escape(char)) for char in host)


_HOSTS = "|".join(_lookalike(host) for host in sorted(SHORTENERS, key=len, reverse=True))
_SHORTENER = re.compile(
    rf"(?<![\w.@/-])(?P<scheme>https?://)?(?:www\.)?(?:{_HOSTS})(?![\w-]|\.\w)(?P<path>/[^\s]*)?"
)
_TRAILING = ".,;:!?)]}\"'»«"


class UrlShortenerCheck(Check):
    name = "links.url_shortener"
    categories = ("url_shortener",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        for match in _SHORTENER.finditer(skeleton(text.folded)):
            path = (match.group("path") or "").rstrip(_TRAILING)
            if not match.group("scheme") and len(path) < 2:
                continue  # "bit.ly" named in passing is not a link
            end = match.end() - len(match.group("path") or "") + len(path)
            yield self.finding(
                text, match.start(), end, _("A shortened link that hides where it leads.")
            )


_TLDS = (
    "com|de|org|net|at|ch|uk|eu|io|info|social|app|edu|gov|ly|co|me|tv|online|site|page|dev"
    "|nl|fr|it|es|pl|be|lu|li|us|ca|au|biz|news|shop|blog|email|cloud|link|to|gd|cc|gl|ru|cn"
)
_URL = re.compile(
    r"(?<![\w@.-])(?:(?P<scheme>https?://)|(?P<www>www\.))?"
    r"(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?P<tld>[a-z]{2,24}))"
    r"(?![\w-]|@)(?::\d{1,5})?(?P<path>/[^\s]*)?"
)


def _covers(domains: tuple[str, ...], host: str) -> bool:
    for domain in domains:
        domain = domain.lower().strip().removeprefix("www.").strip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


class LinkDomainCheck(Check):
    name = "links.domain"
    categories = ("link_domain",)

    def find(self, text: PreparedText, context: CheckContext) -> Iterator[Finding]:
        if not context.allowed_domains and not context.denied_domains:
            return
        for match in _URL.finditer(skeleton(text.folded)):
            if not (
                match.group("scheme")
                or match.group("www")
                or re.fullmatch(_TLDS, match.group("tld"))
            ):
                continue
            host = match.group("host").removeprefix("www.")
            end = match.end() - len(match.group("path") or "")
            end += len((match.group("path") or "").rstrip(_TRAILING))
            if _covers(context.denied_domains, host):
                yield self.finding(
                    text, match.start(), end, _("A link to a domain the policy denies.")
                )
            elif context.allowed_domains and not _covers(context.allowed_domains, host):
                yield self.finding(
                    text, match.start(), end, _("A link to a domain the policy does not allow.")
                )
