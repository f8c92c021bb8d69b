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
# The largest upload of all (post images, feeds.images); the API refuses bigger bodies unread.
MAX_ANY_UPLOAD_BYTES = 10 * 1024 * 1024
# The memory budget of one upload, shared by all five places that take pictures (post images on
# the web and through the API, profile photos on the web and through the API, logos). A small
# file can describe a huge canvas (a "decompression bomb"): the header is read first and the
# picture refused before decoding unless all three hold.
MAX_SOURCE_PIXELS = 40_000_000
MAX_SIDE = 16_384
# Decoded bytes: width x height x bytes per pixel as Pillow holds them (1 for palette, grey and
# 1-bit; 2 for 16-bit grey; 4 for everything else, RGB included). JPEGs are decoded at 1/2, 1/4
# or 1/8 of their size when that still covers the largest size kept (Pillow's draft mode), so
# large photos fit; PNG, WebP and GIF cannot be decoded smaller, so they must fit as they are.
MAX_DECODED_BYTES = 48 * 1024 * 1024
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
AVATAR_MAX_SIDE = 800
LOGO_MAX_SIDE = 1200
_ONE_BYTE_MODES = {"1", "L", "P"}
_TWO_BYTE_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}


def limits_text(max_bytes: int) -> str:
    """The limits of an upload as people read them (in docs, schema and help texts)."""
    return _(
        "at most %(size)s MB and %(pixels)s megapixels, no side over %(side)s pixels; "
        "PNG, WebP and GIF in colour at most %(colour)s megapixels"
    ) % {
        "size": max_bytes // (1024 * 1024),
        "pixels": MAX_SOURCE_PIXELS // 1_000_000,
        "side": f"{MAX_SIDE:,}",
        "colour": MAX_DECODED_BYTES // 4 // 1_000_000,
    }


def decoded_bytes(size: tuple[int, int], mode: str) -> int:
    """The memory Pillow needs for the decoded pixels of an image of this size and mode."""
    per_pixel = 1 if mode in _ONE_BYTE_MODES else 2 if mode in _TWO_BYTE_MODES else 4
    return size[0] * size[1] * per_pixel


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The smallest size Pillow may decode a JPEG at that still has ``max_side`` on its longer
    side (draft mode scales by a power of two no larger than the ratio given here)."""
    scale = max(1, max(size) // max_side)
    return (max(1, -(-size[0] // scale)), max(1, -(-size[1] // scale)))


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


def _check_header(image: Image.Image) -> None:
    """Refuse a canvas that is too large before a single pixel is decoded."""
    width, height = image.size
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageTooLarge(
            _("The picture is %(width)s by %(height)s pixels; no side may exceed %(limit)s.")
            % {"width": width, "height": height, "limit": f"{MAX_SIDE:,}"}
        )
    if width * height > MAX_SOURCE_PIXELS:
        raise ImageTooLarge(
            _("The picture is too large in pixels; use one under %(limit)s megapixels.")
            % {"limit": MAX_SOURCE_PIXELS // 1_000_000}
        )


def _check_budget(image: Image.Image) -> None:
    """Refuse a picture whose decoded pixels would not fit the memory budget."""
    if decoded_bytes(image.size, image.mode) > MAX_DECODED_BYTES:
        raise ImageTooLarge(
            _(
                "The picture is too large to process: PNG, WebP and GIF pictures in colour may "
                "have at most %(limit)s megapixels. Use a smaller one, or a JPEG."
            )
            % {"limit": MAX_DECODED_BYTES // 4 // 1_000_000}
        )


def clean_image(
    data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_side: int = LOGO_MAX_SIDE
) -> CleanImage:
    """Check an upload and return a new image that carries its pixels and nothing else, at most
    ``max_side`` pixels wide and high, decoded within the memory budget."""
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
            _check_header(image)
            if image.format == "JPEG":
                image.draft(None, _draft_size(image.size, max_side))
            _check_budget(image)
            lossless = image.format in ("PNG", "GIF")
            image.seek(0)  # the first frame of an animation
            image.load()
            image = _shrunk(image, max_side)
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


def _shrunk(image: Image.Image, max_side: int) -> Image.Image:
    """The loaded image at most ``max_side`` pixels wide and high, within the memory budget.

    Pillow resizes 1-bit and palette pictures by nearest neighbour only. A palette picture is
    converted to colour first and smoothed where the budget allows that copy, else thinned by
    nearest neighbour; a 1-bit picture is thinned to twice the size and averaged as grey.
    """
    if max(image.size) <= max_side:
        return image
    info = image.info
    if image.mode == "1" and max(image.size) >= 2 * max_side:
        # Thin to twice the final size, then average each 2 x 2 block as grey: smooth edges
        # for a fraction of the time a Lanczos filter over the large canvas takes.
        scale = max_side / max(image.size)
        width, height = (max(1, round(side * scale)) for side in image.size)
        image = image.resize((2 * width, 2 * height), Image.Resampling.NEAREST)
        image = image.convert("L").reduce(2)
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode == "P":
        if decoded_bytes(image.size, "RGBA") <= MAX_DECODED_BYTES:
            image = image.convert("RGBA" if "transparency" in info else "RGB")
        else:
            image.thumbnail((max_side, max_side), Image.Resampling.NEAREST)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    image.info = info
    return image


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
        # One byte past the limit is enough to refuse; the rest of the file is never read.
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        encoded = encode_image(clean_image(data, max_side=max_side), max_side=max_side)
    except ImageInvalid as error:
        raise ValidationError(error.message, code=error.code) from error
    return ContentFile(encoded.data, name=f"{uuid.uuid4().hex}.{encoded.extension}")
