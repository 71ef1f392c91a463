"""Photos crews take at a stop: only real JPEG, PNG or WebP images, within a size limit.

The bytes are checked twice: the file must start with the format's magic bytes, and
Pillow must open and verify it as that format (a renamed text file, a truncated image
or an SVG are refused). The bytes are stored as uploaded (in the database, see
:class:`app.models.StopPhoto`).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from gis.errors import InputError

#: Pillow format -> (content type, magic-byte check).
FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}

#: Images larger than this many pixels are refused before decoding (decompression bombs).
MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    width: int
    height: int
    sha256: str
    size_bytes: int


def _magic_format(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_image(data: bytes, *, max_bytes: int) -> CheckedImage:
    """The image's type and size, or :class:`InputError` (HTTP 422) saying why it is refused:
    ``photo_empty``, ``photo_too_large`` (over ``max_bytes``), ``photo_not_image``."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InputError("the photo is empty", code="photo_empty")
    if len(data) > max_bytes:
        raise InputError(f"the photo is {len(data)} bytes; at most {max_bytes} bytes are accepted", code="photo_too_large",
                         details={"size_bytes": len(data), "max_bytes": max_bytes})
    magic = _magic_format(data)
    if magic is None:
        raise InputError("the file is not a JPEG, PNG or WebP image", code="photo_not_image")
    try:
        with Image.open(io.BytesIO(data), formats=[magic]) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise InputError(f"the photo has {width}x{height} pixels; at most {MAX_PIXELS} are accepted",
                                 code="photo_too_large", details={"width": width, "height": height})
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"the file is not a readable {magic} image", code="photo_not_image") from None
    return CheckedImage(content_type=FORMATS[magic], width=int(width), height=int(height),
                        sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
