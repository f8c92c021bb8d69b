"""Text for the five networks: each network's counter (``measure``) and renderer (``render``).

Renderers are pure functions from a revision's text to the parts a network accepts; the delivery
engine sends them, moderation shows and hashes them (``Rendering.content_hash``). The rules they
share (permalink, shortening, threads, images, mentions) are in ``rendering``; what each network
counts is in its own module. The counters are checked against twitter-text 3.1.0 and
@atproto/api (``crossposting/oracle``) in ``tests/crossposting/test_text_oracle.py``.

What the parts carry for the delivery clients:

- every part: ``text`` exactly as sent, ``images`` (alt text already cut to the network's limit);
  thread parts are sent in order, each replying to the previous one.
- mastodon: ``extra["language"]``.
- bluesky: ``facets`` in ``app.bsky.richtext.facet`` shape, except that a mention's feature has
  ``handle`` where the record needs ``did`` (the client resolves it, and drops the facet when it
  cannot); ``extra["langs"]`` and ``extra["embed"]``: ``app.bsky.embed.external`` (permalink,
  title, description; the client may add a thumb blob) on the first part, or
  ``app.bsky.embed.images`` whose ``image`` is the image's ``url_or_path`` (upload, then
  replace it by the blob).
- x: nothing extra.
- linkedin: ``extra["commentary"]`` (= ``text``, escaped) and, without images,
  ``extra["article"]`` (source, title, description).
- threads: ``extra["link_attachment"]`` (the permalink) on a first part without images.
"""

from __future__ import annotations

from crossposting.text import bluesky, linkedin, mastodon, threads, x
from crossposting.text.rendering import (
    Image,
    Measurement,
    Network,
    Part,
    RenderError,
    Rendering,
    RenderInput,
)

NETWORKS = ("mastodon", "bluesky", "x", "linkedin", "threads")
RULES: dict[str, Network] = {
    "mastodon": mastodon.NETWORK,
    "bluesky": bluesky.NETWORK,
    "x": x.NETWORK,
    "linkedin": linkedin.NETWORK,
    "threads": threads.NETWORK,
}

__all__ = [
    "NETWORKS",
    "RULES",
    "Image",
    "Measurement",
    "Part",
    "RenderError",
    "RenderInput",
    "Rendering",
    "measure",
    "measure_part",
    "render",
]


def render(network: str, data: RenderInput) -> Rendering:
    """The parts ``network`` is sent for a revision: permalink added, shortened or split."""
    return RULES[network].render(data)


def measure(network: str, text: str, limit: int | None = None) -> Measurement:
    """``network``'s counter on a raw text (no permalink, no shortening, mentions as written)."""
    return RULES[network].measure(text, limit)


def measure_part(network: str, text: str, limit: int | None = None) -> Measurement:
    """``network``'s counter on a rendered part's text (LinkedIn's is escaped already)."""
    return RULES[network].measure_finished(text, limit)
