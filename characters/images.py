"""Avatar images: checked by content (Pillow), bounded in pixels, stored as PNG."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from characters.cards import CardError

MAX_AVATAR_SIDE = 2048
MAX_AVATAR_PIXELS = 4096 * 4096


def avatar_png_normalise(data: bytes) -> bytes:
    """A PNG of at most 2048 px a side. Raises CardError for anything that is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_AVATAR_PIXELS:
                raise CardError(f"the image is {width}x{height} pixels, more than allowed")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format == "PNG" and max(image.size) <= MAX_AVATAR_SIDE:
                return data
            image = image.convert("RGBA")
            image.thumbnail((MAX_AVATAR_SIDE, MAX_AVATAR_SIDE))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise CardError(f"the avatar is not a readable image ({error})") from error
