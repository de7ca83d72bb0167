"""Demo content for `manage.py seed_demo`: Tavern's own characters and a world lorebook,
owned by the demo user and public. Safe to run again: what exists is left alone.

The cards are plain Character Card V3 files in `demo_assets/cards/` and the world is
a SillyTavern world file in `demo_assets/worlds/`, read with the same codecs and
created with the same services as a user's import. Avatars are drawn here."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User

from .cards import card_from_json, world_from_sillytavern
from .models import Character, Lorebook, Visibility
from .services import character_create, lorebook_create

ASSETS = Path(__file__).resolve().parent / "demo_assets"
AVATAR_SIZE = 512


@dataclass(frozen=True)
class DemoCharacter:
    card_file: str
    language: str
    monogram: str  # Latin: Pillow's bundled font has no CJK glyphs
    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    emblem: str


DEMO_CHARACTERS = (
    DemoCharacter("wren-halloway.json", "en", "W", (244, 162, 97), (94, 60, 88), "beacon"),
    DemoCharacter("juno.json", "en", "J", (255, 190, 92), (28, 45, 84), "star"),
    DemoCharacter("lin-wanzhao.json", "zh-hans", "L", (236, 201, 141), (58, 110, 96), "diamond"),
    DemoCharacter("shen-xinghe.json", "zh-hans", "S", (250, 140, 120), (52, 42, 110), "moon"),
)
DEMO_WORLD_FILE = "folk-creatures.json"


def demo_seed() -> list[str]:
    owner = User.objects.filter(username=settings.DEMO_USERNAME).first()
    if owner is None:
        return [f"no user {settings.DEMO_USERNAME!r}; the accounts seed makes it first"]
    lines = [_seed_character(owner, demo) for demo in DEMO_CHARACTERS]
    lines.append(_seed_world(owner))
    return lines


def _seed_character(owner: User, demo: DemoCharacter) -> str:
    card, _spec = card_from_json(json.loads((ASSETS / "cards" / demo.card_file).read_text(encoding="utf-8")))
    # By name, not slug: Chinese names all slugify to "character", so a slug says nothing here.
    # Trashed ones count too, so a demo character the demo user deleted stays deleted.
    if Character.objects.filter(owner=owner, name=card.name).exists():
        return f"character {card.name} already there"
    character = character_create(
        owner=owner,
        card=card,
        avatar_png=demo_avatar_png(demo),
        visibility=Visibility.PUBLIC,
        language=demo.language,
        change_summary="Demo character",
    )
    book = f" with lorebook {character.book.name!r}" if character.book is not None else ""
    return f"character {card.name} created{book}"


def _seed_world(owner: User) -> str:
    value = world_from_sillytavern(
        json.loads((ASSETS / "worlds" / DEMO_WORLD_FILE).read_text(encoding="utf-8"))
    )
    if Lorebook.objects.filter(owner=owner, name=value.name, character__isnull=True).exists():
        return f"lorebook {value.name} already there"
    lorebook_create(owner=owner, value=value)
    return f"lorebook {value.name} created ({len(value.entries)} entries)"


def demo_avatar_png(demo: DemoCharacter, *, size: int = AVATAR_SIZE) -> bytes:
    """A warm vertical gradient, a translucent emblem and the monogram."""
    mask = Image.linear_gradient("L").resize((size, size))
    image = Image.composite(
        Image.new("RGB", (size, size), demo.bottom), Image.new("RGB", (size, size), demo.top), mask
    )

    overlay = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    _draw_emblem(ImageDraw.Draw(overlay), demo.emblem, size)
    image = Image.alpha_composite(image.convert("RGBA"), overlay)

    draw = ImageDraw.Draw(image, "RGBA")  # blend the translucent ring, don't overwrite
    inset = size * 0.04
    draw.ellipse(
        (inset, inset, size - inset, size - inset), outline=(255, 255, 255, 200), width=max(2, size // 64)
    )
    # Text goes through a greyscale mask: Pillow draws glyphs without blending their alpha.
    font = ImageFont.load_default(size=size * 0.42)
    centre = (size / 2, size / 2)
    for offset, colour, strength in ((size * 0.014, (40, 20, 30, 255), 110), (0, (255, 255, 255, 255), 255)):
        mask = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask).text(
            (centre[0] + offset, centre[1] + offset), demo.monogram, fill=strength, font=font, anchor="mm"
        )
        image = Image.composite(Image.new("RGBA", (size, size), colour), image, mask)

    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def _draw_emblem(draw: ImageDraw.ImageDraw, emblem: str, size: int) -> None:
    """On a transparent layer, so overlapping shapes keep one even tint."""
    tint = (255, 255, 255, 70)
    middle = size / 2
    if emblem == "beacon":  # a lamp and its beams
        for radius in (0.18, 0.28, 0.38):
            r = size * radius
            draw.ellipse((middle - r, middle - r, middle + r, middle + r), outline=tint, width=size // 40)
        draw.polygon([(middle, middle), (0, middle - size * 0.2), (0, middle + size * 0.05)], fill=tint)
        draw.polygon([(middle, middle), (size, middle - size * 0.2), (size, middle + size * 0.05)], fill=tint)
    elif emblem == "star":  # an eight-pointed star
        points = []
        for index in range(16):
            radius = size * (0.40 if index % 2 == 0 else 0.16)
            angle = math.pi * index / 8 - math.pi / 2
            points.append((middle + radius * math.cos(angle), middle + radius * math.sin(angle)))
        draw.polygon(points, fill=tint)
    elif emblem == "diamond":  # a lozenge with a smaller one inside, like a tea-house lattice
        for half, width in ((0.38, size // 48), (0.24, size // 64)):
            r = size * half
            draw.polygon(
                [(middle, middle - r), (middle + r, middle), (middle, middle + r), (middle - r, middle)],
                outline=tint,
                width=width,
            )
    elif emblem == "moon":  # a crescent and two small stars
        r = size * 0.34
        draw.ellipse((middle - r, middle - r, middle + r, middle + r), fill=tint)
        offset = size * 0.14
        # Drawing on RGBA replaces pixels, so a clear disc cuts the crescent out.
        draw.ellipse(
            (middle - r + offset, middle - r - offset / 2, middle + r + offset, middle + r - offset / 2),
            fill=(0, 0, 0, 0),
        )
        for x, y, s in ((0.78, 0.22, 0.025), (0.84, 0.36, 0.015)):
            draw.ellipse(
                (size * (x - s), size * (y - s), size * (x + s), size * (y + s)), fill=(255, 255, 255, 140)
            )
