"""Images for tests, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (120, 80)) -> bytes:
    """A JPEG whose EXIF carries a GPS position, a camera serial number and an orientation."""
    image = Image.new("RGB", size, "orange")
    exif = Image.Exif()
    exif[0x0110] = "Podium Test Camera"  # Model
    exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()
