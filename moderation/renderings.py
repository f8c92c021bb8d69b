"""What each selected network will receive for a revision: the renderings a reviewer sees and
whose hashes an approval is bound to.

The networks are the revision's targets in crossposting (``PostTarget``: the choice belongs to
the revision, so changing it changes what an approval binds); the text comes from
``crossposting.text.render``. A revision without targets has no renderings (an empty mapping).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from crossposting.models import PostTarget
from crossposting.text import RenderError, RenderInput, measure, render
from crossposting.text.rendering import Image
from feeds.models import Attachment, Post, Revision
from feeds.public.addresses import post_permalink


@dataclass(frozen=True)
class NetworkRendering:
    """One network's rendering of a revision, as a reviewer sees it."""

    network: str
    account: str
    parts: tuple[str, ...]
    length: int
    limit: int
    unit: str
    content_hash: str
    error: str = ""

    @property
    def too_long(self) -> bool:
        return bool(self.error) or self.length > self.limit


def _networks(revision: Revision) -> list[tuple[str, str, int | None]]:
    """(network, account handle, the account's own limit) of every target of the revision, in a
    stable order. The limit is a Mastodon instance's ``max_characters`` (None: the network's), as
    the delivery engine renders with it."""
    rows = PostTarget.objects.filter(revision_id=revision.id).values_list(
        "account__network", "account__handle", "account__max_characters"
    )
    return sorted(set(rows), key=lambda row: (row[0], row[1], row[2] or 0))


def _input(post: Post, revision: Revision, attachments: list[Attachment]) -> RenderInput:
    """The same input the delivery engine renders from (crossposting.services), so the hash a
    reviewer approves is the hash of what is sent."""
    return RenderInput(
        body=revision.body,
        language=revision.language,
        permalink=post_permalink(post.institution, post),
        images=tuple(
            Image(url_or_path=a.media.image.name, alt_text=a.alt_text) for a in attachments
        ),
        mode="thread",
    )


def renderings_of(post: Post, revision: Revision) -> list[NetworkRendering]:
    """Each selected network's rendering of the revision (empty without targets)."""
    networks = _networks(revision)
    if not networks:
        return []
    attachments = list(
        Attachment.objects.filter(revision=revision).select_related("media").order_by("position")
    )
    data = _input(post, revision, attachments)
    result = []
    for network, handle, limit in networks:
        try:
            rendering = render(network, replace(data, limit=limit))
        except RenderError as error:
            result.append(NetworkRendering(network, handle, (), 0, 0, "", "", str(error)))
            continue
        texts = tuple(part.text for part in rendering.parts)
        length = max((measure(network, text, rendering.limit).length for text in texts), default=0)
        result.append(
            NetworkRendering(
                network=network,
                account=handle,
                parts=texts,
                length=length,
                limit=rendering.limit,
                unit=rendering.length_unit,
                content_hash=rendering.content_hash(),
            )
        )
    return result


def rendered_hashes(post: Post, revision: Revision) -> dict[str, str]:
    """network -> hash of what it receives; an unrenderable text hashes as its error."""
    hashes = {}
    for item in renderings_of(post, revision):
        key = f"{item.network}:{item.account}"
        hashes[key] = item.content_hash or f"error:{item.error}"
    return hashes
