"""Post images: up to 10 MB, cleaned of metadata (accounts.images), in two display sizes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from accounts.images import EncodedImage, ImageInvalid, ImageTooLarge, clean_image, encode_image

__all__ = ["MAX_UPLOAD_BYTES", "ImageInvalid", "ImageTooLarge", "ProcessedImage", "process_image"]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
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
    image = clean_image(data, max_bytes=MAX_UPLOAD_BYTES)
    return ProcessedImage(
        display=encode_image(image, max_side=MAX_DISPLAY_SIDE),
        small=encode_image(image, max_side=SMALL_SIDE),
    )
