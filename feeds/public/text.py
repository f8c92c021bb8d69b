"""What pages and feeds derive from a post's public text (the sanitised ``Revision.body_html``):
its plain text, its hashtags, and its spelled-out addresses made breakable."""

from __future__ import annotations

import html
import re

import nh3

from feeds.rendering import ALLOWED_TAGS

# Hashtags as feeds.rendering marks them up in body_html (the page's p-category), so feeds list
# exactly the tags the page shows (never one inside a link or code).
_HASHTAG_RE = re.compile(r'<span class="p-category hashtag">#([^<]+)</span>')
# A tag as nh3 writes the tags feeds.rendering allows.
_SANITISED_TAG_RE = re.compile(
    r"</?(?:" + "|".join(sorted(ALLOWED_TAGS)) + r')(?:\s+[a-z-]+="[^"]*")*\s*/?>'
)
# The text of a link that spells out an address (sanitised body_html: no tags inside it).
_ADDRESS_TEXT_RE = re.compile(r"(<a [^>]*>)(https?://[^<]{20,})(</a>)")


def with_address_breaks(body_html: str) -> str:
    """Post HTML whose spelled-out addresses may break after "/" (and "-" or "."), never in
    the middle of a word, on narrow screens."""
    if "://" not in body_html:
        return body_html
    return _ADDRESS_TEXT_RE.sub(
        lambda match: match[1] + re.sub(r"(?<=[/.\-])(?=[^/.\-])", "<wbr>", match[2]) + match[3],
        body_html,
    )


# Shortcut, earns its place (bench.public_shortcuts, 7 Dec 2026, two runs): against
# nh3.clean, atom feed +21%/+33% (permalink +8%/+10%).
def text_of(body_html: str) -> str:
    """The plain text of sanitised post HTML, on one line (titles, summaries, meta tags)."""
    # body_html is nh3's output: tags of ALLOWED_TAGS with double-quoted attributes, and text
    # with < > & escaped. Removing those tags gives the text nh3.clean(tags=set()) gives (a feed
    # does this 50 times); anything else goes to nh3.
    text = _SANITISED_TAG_RE.sub("", body_html)
    if "<" in text or ">" in text:
        text = nh3.clean(body_html, tags=set())
    return " ".join(html.unescape(text).split())


def hashtags_of(body_html: str) -> list[str]:
    """The hashtags the rendered text marks up (``p-category``), without duplicates."""
    seen: dict[str, str] = {}
    for tag in _HASHTAG_RE.findall(body_html):
        tag = html.unescape(tag)
        seen.setdefault(tag.lower(), tag)
    return list(seen.values())
