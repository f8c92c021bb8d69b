"""Uploaded images: check type and size, drop every piece of metadata, make display sizes.

The stored file is re-encoded from pixels only: EXIF (GPS positions, camera serials, times), XMP
and comments never reach the disk. EXIF orientation is applied to the pixels first.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.errors import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
MAX_DISPLAY_SIDE = 2048
SMALL_SIDE = 640
# Accepted formats and how each is stored.
ACCEPTED = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class ImageInvalid(DomainError):
    status = 400
    code = "image_invalid"


class ImageTooLarge(ImageInvalid):
    status = 413
    code = "image_too_large"


@dataclass(frozen=True)
class ProcessedImage:
    display: bytes
    small: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.display).hexdigest()


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True, progressive=True)
    elif fmt == "WEBP":
        image.save(buffer, "WEBP", quality=85, method=4)
    else:
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _pixels_only(image: Image.Image) -> Image.Image:
    """A copy carrying pixels and nothing else (no EXIF, XMP, comments or text chunks)."""
    mode = image.mode if image.mode in ("RGB", "RGBA", "L", "LA") else "RGBA"
    source = image.convert(mode)
    clean = Image.new(mode, source.size)
    clean.paste(source)
    return clean


def process_image(data: bytes) -> ProcessedImage:
    """Validate an upload and return its cleaned display and small versions."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageTooLarge(
            _("The image is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            source_format = probe.format
            if source_format not in ACCEPTED:
                raise ImageInvalid(_("Upload a JPEG, PNG, WebP or GIF image."))
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageTooLarge(_("The image has too many pixels (at most 50 megapixels)."))
            probe.seek(0)  # the first frame of an animation
            oriented = ImageOps.exif_transpose(probe)
            image = _pixels_only(oriented)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        raise ImageInvalid(_("This file is not an image that can be read.")) from error

    stored_format = ACCEPTED[source_format]
    if stored_format == "JPEG" and image.mode in ("RGBA", "LA"):
        stored_format = "PNG"
    display = image.copy()
    display.thumbnail((MAX_DISPLAY_SIDE, MAX_DISPLAY_SIDE), Image.Resampling.LANCZOS)
    small = image.copy()
    small.thumbnail((SMALL_SIDE, SMALL_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        display=_encode(display, stored_format),
        small=_encode(small, stored_format),
        content_type=CONTENT_TYPES[stored_format],
        extension=EXTENSIONS[stored_format],
        width=display.width,
        height=display.height,
    )
