"""Post images: up to 10 MB, cleaned of metadata (accounts.images), in two display sizes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.utils.functional import lazy

from accounts.images import (
    MAX_ANY_UPLOAD_BYTES,
    EncodedImage,
    ImageInvalid,
    ImageTooLarge,
    clean_image,
    encode_image,
    limits_text,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "UPLOAD_LIMITS_TEXT",
    "ImageInvalid",
    "ImageTooLarge",
    "ProcessedImage",
    "process_image",
]

MAX_UPLOAD_BYTES = MAX_ANY_UPLOAD_BYTES
# For docs and the API schema, in the language of the moment.
UPLOAD_LIMITS_TEXT = lazy(limits_text, str)(MAX_UPLOAD_BYTES)
MAX_DISPLAY_SIDE = 2048
SMALL_SIDE = 640


@dataclass(frozen=True)
class ProcessedImage:
    display: EncodedImage
    small: EncodedImage

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.display.data).hexdigest()


def process_image(data: bytes) -> ProcessedImage:
    """Validate an upload and return its cleaned display and small versions."""
    image = clean_image(data, max_bytes=MAX_UPLOAD_BYTES, max_side=MAX_DISPLAY_SIDE)
    return ProcessedImage(
        display=encode_image(image, max_side=MAX_DISPLAY_SIDE),
        small=encode_image(image, max_side=SMALL_SIDE),
    )
