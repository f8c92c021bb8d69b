"""Uploaded pictures (profile photos, institution logos): checked, shrunk and re-encoded.

Re-encoding from the decoded pixels drops everything else the file carried: EXIF (camera,
location, time), XMP, comments and colour profiles. Only the picture goes public.
"""

from __future__ import annotations

import io
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Decoding a huge canvas costs memory even when the file is small (a "decompression bomb").
MAX_SOURCE_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
AVATAR_MAX_SIDE = 800
LOGO_MAX_SIDE = 1200


def reencode_image(upload: UploadedFile, *, max_side: int) -> ContentFile:
    """A clean copy of an uploaded picture, at most ``max_side`` pixels wide and high.

    Raises ``ValidationError`` with a message a person can act on when the file is too large,
    is not a JPEG, PNG, WebP or GIF picture, or cannot be read.
    """
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is %(size)s; pictures may be at most %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_UPLOAD_BYTES)},
            code="too_large",
        )
    not_a_picture = ValidationError(
        _("This file is not a picture we can use. Upload a JPEG, PNG, WebP or GIF image."),
        code="invalid_image",
    )
    upload.seek(0)
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise not_a_picture
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise ValidationError(
                    _("The picture is too large in pixels; use one under 40 megapixels."),
                    code="too_many_pixels",
                )
            image.seek(0)  # the first frame of an animation
            image.load()
            image = ImageOps.exif_transpose(image)
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise not_a_picture from error

    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A new image from the bare pixels: no metadata of the original survives.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    output = io.BytesIO()
    if has_alpha:
        clean.save(output, format="PNG", optimize=True)
        extension = "png"
    else:
        clean.save(output, format="JPEG", quality=85, optimize=True, progressive=True)
        extension = "jpg"
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")
