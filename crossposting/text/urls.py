"""URLs as twitter-text 3.1.0 (JavaScript) extracts them: X's counter, Mastodon's and Threads'.

The patterns are those of the ``twitter-text-parser`` port; the loop around them is
``extractUrlsWithIndices`` again because the port validates domains with Python's IDNA 2003
codec, which rejects domains that twitter-text's own ``idna.toAscii`` (plain punycode per label,
at most 63 characters) accepts, e.g. an ASCII domain glued to Arabic, Hebrew or a flag. And
Python's case-insensitive ``[a-z]`` also matches U+0130, U+0131, U+017F and U+212A, which
JavaScript's does not: the patterns see stand-ins for those four.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate

from twitter_text.regexp.extract_url import extract_url
from twitter_text.regexp.invalid_url_without_protocol_preceding_chars import (
    invalid_url_without_protocol_preceding_chars,
)
from twitter_text.regexp.valid_ascii_domain import valid_ascii_domain
from twitter_text.regexp.valid_tco_url import valid_tco_url

from crossposting.text.graphemes import utf16_length, utf16_units

DEFAULT_PROTOCOL = "https://"
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LABEL_LENGTH = 63
JS_CASE_STAND_INS = str.maketrans(
    {"\u0130": "\u0180", "\u0131": "\u0180", "\u017f": "\u0180", "\u212a": "\u2127"}
)
SEPARATORS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _punycode_label(label: str) -> str:
    if all(" " <= character <= "~" for character in label):
        return label
    return "xn--" + label.encode("punycode", "surrogatepass").decode("ascii")


def punycode_domain(domain: str) -> str | None:
    """twitter-text's ``idna.toAscii``: punycode per label, None when a label is empty or long."""
    if domain.startswith("xn--") and not valid_ascii_domain.search(domain):
        return None
    encoded = []
    for label in domain.split("."):
        head, at, rest = label.partition("@")  # punycode.js keeps an e-mail's local part as is
        mapped = ".".join(
            _punycode_label(part)
            for part in (rest if at else head).translate(SEPARATORS).split(".")
        )
        result = head + at + mapped if at else mapped
        if not 1 <= utf16_length(result) <= MAX_DOMAIN_LABEL_LENGTH:
            return None
        encoded.append(result)
    return ".".join(encoded)


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    """``url`` and ``domain`` as UTF-16 code units."""
    encoded = punycode_domain(_text(domain))
    if not encoded:
        return False
    length = len(url) + len(encoded) - len(domain)
    return len(protocol) + length <= MAX_URL_LENGTH


def _text(units: str) -> str:
    """Code units back to a text (pairs joined, a lone surrogate stays one)."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def extract_urls_with_indices(text: str, *, without_protocol: bool = True) -> list[dict]:
    """``[{"url", "indices": [start, end], "utf16": (start, end)}]`` as twitter-text finds them;
    ``indices`` count code points (a cut inside a surrogate pair counts the pair as one)."""
    if not text or ("." not in text if without_protocol else ":" not in text):
        return []
    # JavaScript matches UTF-16 code units: a URL may start after half of a surrogate pair.
    units = utf16_units(text.translate(JS_CASE_STAND_INS))
    original = utf16_units(text)
    found: list[tuple[int, int, str]] = []
    for match in extract_url.finditer(units):
        before, protocol, path = match.group(2), match.group(4), match.group(7)
        url, domain = (
            original[match.start(3) : match.end(3)],
            original[match.start(5) : match.end(5)],
        )
        end = match.end()
        start = end - len(url)
        if not _is_valid_url(url, protocol or DEFAULT_PROTOCOL, domain):
            continue
        if protocol is None:
            if not without_protocol or invalid_url_without_protocol_preceding_chars.match(before):
                continue
            last = None
            for ascii_match in valid_ascii_domain.finditer(match.group(5)):
                last = [
                    start + ascii_match.start(),
                    start + ascii_match.end(),
                    domain[ascii_match.start() : ascii_match.end()],
                ]
                found.append(last)
            if last is None:
                continue
            if path:
                last[2] = url.replace(domain, last[2], 1)
                last[1] = end
        else:
            tco = valid_tco_url.search(match.group(3))
            if tco:
                slug = tco.group(1)
                if slug and len(slug) > MAX_TCO_SLUG_LENGTH:
                    continue
                url = url[: tco.end()]
                end = start + len(url)
            found.append([start, end, url])
    starts = list(
        accumulate((2 if ord(character) > 0xFFFF else 1 for character in text), initial=0)
    )
    return [
        {
            "url": _text(url),
            "indices": [bisect_left(starts, start), bisect_left(starts, end)],
            "utf16": (start, end),
        }
        for start, end, url in found
    ]
