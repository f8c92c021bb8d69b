"""Uploaded pictures (profile photos, logos, post images): checked, shrunk and re-encoded.

Re-encoding from the decoded pixels drops everything else the file carried: EXIF (camera,
location, time), XMP, comments and colour profiles. EXIF orientation is applied to the pixels
first. Only the picture goes public.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.errors import DomainError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Decoding a huge canvas costs memory even when the file is small (a "decompression bomb").
MAX_SOURCE_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
AVATAR_MAX_SIDE = 800
LOGO_MAX_SIDE = 1200


class ImageInvalid(DomainError):
    status = 400
    code = "image_invalid"
    default_message = gettext_lazy(
        "This file is not a picture we can use. Upload a JPEG, PNG, WebP or GIF image."
    )


class ImageTooLarge(ImageInvalid):
    status = 413
    code = "image_too_large"


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class CleanImage:
    """The pixels of an upload and nothing else; ``lossless`` keeps drawings and logos crisp."""

    pixels: Image.Image
    lossless: bool


def clean_image(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> CleanImage:
    """Check an upload and return a new image that carries its pixels and nothing else."""
    if len(data) > max_bytes:
        raise ImageTooLarge(
            _("The file is %(size)s; pictures may be at most %(limit)s.")
            % {"size": filesizeformat(len(data)), "limit": f"{max_bytes // (1024 * 1024)} MB"}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise ImageInvalid()
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise ImageTooLarge(
                    _("The picture is too large in pixels; use one under 40 megapixels.")
                )
            lossless = image.format in ("PNG", "GIF")
            image.seek(0)  # the first frame of an animation
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageInvalid:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise ImageInvalid() from error
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if has_alpha else "RGB")
    # A new image from the bare pixels: no metadata of the original survives.
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    return CleanImage(pixels, lossless or has_alpha)


def encode_image(clean: CleanImage, *, max_side: int) -> EncodedImage:
    """The picture at most ``max_side`` pixels wide and high: PNG when lossless, else JPEG."""
    image = clean.pixels.copy()
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    if clean.lossless:
        image.save(output, format="PNG", optimize=True)
        extension, content_type = "png", "image/png"
    else:
        image.save(output, format="JPEG", quality=85, optimize=True, progressive=True)
        extension, content_type = "jpg", "image/jpeg"
    return EncodedImage(output.getvalue(), extension, content_type, image.width, image.height)


def reencode_image(upload: UploadedFile, *, max_side: int) -> ContentFile:
    """A clean copy of an uploaded picture for a form field; ValidationError when unusable."""
    upload.seek(0)
    try:
        encoded = encode_image(clean_image(upload.read()), max_side=max_side)
    except ImageInvalid as error:
        raise ValidationError(error.message, code=error.code) from error
    return ContentFile(encoded.data, name=f"{uuid.uuid4().hex}.{encoded.extension}")
