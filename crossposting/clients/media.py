"""The image files a client uploads: read from storage by the name the outbox froze, their type
sniffed from the bytes, and made to fit a network's size limit when they do not.

Post images are already cleaned and re-encoded by feeds (no metadata, at most 2,048 pixels a
side), so most fit every network as they are and are sent byte for byte. One that does not is
re-encoded as JPEG, first at lower quality, then smaller: a bounded number of tries, each from
the original pixels, and the same input always gives the same bytes (a retry uploads the same
blob, which content-addressed stores such as Bluesky's give the same reference).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

# (JPEG quality, scale of the longer side) tried in order until the file fits.
_REENCODINGS = ((85, 1.0), (75, 1.0), (75, 0.75), (70, 0.5), (65, 0.35), (60, 0.25))
_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


class MediaUnusable(Exception):
    """An image that cannot be sent to the network (missing, unreadable, or too large even when
    re-encoded): a permanent failure with a message a person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str
    width: int
    height: int


def load(name: str) -> MediaFile:
    """The stored image ``name`` (a storage name as ``crossposting.services`` freezes it)."""
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError) as error:
        raise MediaUnusable(_("An image of the post could not be read from storage.")) from error
    return _described(data)


def _described(data: bytes) -> MediaFile:
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise MediaUnusable(_("An image of the post is not a picture file.")) from error
    if kind not in _TYPES:
        raise MediaUnusable(_("An image of the post has a format no network accepts."))
    return MediaFile(data, _TYPES[kind], width, height)


def fitted(media: MediaFile, *, max_bytes: int, types: frozenset[str]) -> MediaFile:
    """``media`` as it is when the network takes its type and size; otherwise re-encoded as JPEG
    (lower quality, then smaller) until it fits. MediaUnusable when no try fits."""
    if len(media.data) <= max_bytes and media.content_type in types:
        return media
    if "image/jpeg" not in types:
        raise MediaUnusable(_("An image of the post has a format this network does not accept."))
    with Image.open(io.BytesIO(media.data)) as source:
        source.seek(0)  # the first frame of an animation
        pixels = source.convert("RGBA") if source.mode in ("RGBA", "LA", "PA", "P") else source
        pixels = pixels.convert("RGBA") if pixels.mode == "RGBA" else pixels.convert("RGB")
        if pixels.mode == "RGBA":  # JPEG has no transparency: flatten onto white
            flat = Image.new("RGB", pixels.size, "white")
            flat.paste(pixels, mask=pixels.getchannel("A"))
            pixels = flat
        for quality, scale in _REENCODINGS:
            size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
            image = pixels if scale == 1.0 else pixels.resize(size, Image.Resampling.LANCZOS)
            output = io.BytesIO()
            image.save(output, format="JPEG", quality=quality, optimize=True)
            if output.tell() <= max_bytes:
                return MediaFile(output.getvalue(), "image/jpeg", image.width, image.height)
    raise MediaUnusable(
        _("An image of the post is too large for this network even when made smaller.")
    )
