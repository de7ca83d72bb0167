"""A placeholder avatar for cards that come without an image (JSON imports)."""

import colorsys
import hashlib
import io


def default_avatar_png(name: str, *, size: int = 256) -> bytes:
    """A square in a colour derived from the name, with its Latin initial; needs Pillow."""
    from PIL import Image, ImageDraw, ImageFont  # optional dependency, only loaded here

    digest = hashlib.sha256(name.encode("utf-8")).digest()
    red, green, blue = colorsys.hls_to_rgb(digest[0] / 255, 0.45, 0.55)
    background = (round(red * 255), round(green * 255), round(blue * 255))
    image = Image.new("RGB", (size, size), background)
    initial = name.strip()[:1].upper()
    # Pillow's bundled font has Latin glyphs only; other scripts would draw as boxes.
    if initial.isascii() and initial.isalnum():
        font = ImageFont.load_default(size=size * 0.55)
        ImageDraw.Draw(image).text((size / 2, size / 2), initial, fill="white", font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
