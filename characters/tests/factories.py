from __future__ import annotations

import factory

from accounts.tests.factories import UserFactory
from characters.cards import CardData, Lorebook, LorebookEntry, export_png
from characters.models import Visibility
from characters.services import character_create, lorebook_create


def card_data(**overrides: object) -> CardData:
    values: dict[str, object] = {
        "name": "Mira the Cartographer",
        "description": "A wandering mapmaker who charts forgotten coasts and trades stories for ink.",
        "personality": "curious, patient, dry humour",
        "scenario": "A rainy harbour tavern at dusk.",
        "first_mes": "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs.",
        "mes_example": "<START>\n{{user}}: Where are we?\n{{char}}: Somewhere the maps forgot.",
        "alternate_greetings": ["*Mira waves you over.* Sit, the rain won't stop for hours."],
        "tags": ["Fantasy", "Adventure"],
        "creator": "tavern-tests",
    }
    values.update(overrides)
    return CardData(**values)  # type: ignore[arg-type]


def lorebook_value(entries: int = 2, **overrides: object) -> Lorebook:
    return Lorebook(
        name=str(overrides.pop("name", "Harbour lore")),
        entries=[
            LorebookEntry(
                uid=index, keys=[f"key{index}"], content=f"Lore number {index}.", comment=f"entry {index}"
            )
            for index in range(entries)
        ],
        **overrides,  # type: ignore[arg-type]
    )


def card_png_bytes(**overrides: object) -> bytes:
    """A real card PNG (V2 + V3 chunks) as SillyTavern users upload."""
    return export_png(card_data(**overrides))


class CharacterFactory(factory.Factory):
    """Creates through the service, as users do: versions, tags and slug included."""

    class Meta:
        model = dict

    owner = factory.SubFactory(UserFactory)
    card = factory.LazyFunction(card_data)
    visibility = Visibility.PRIVATE
    is_nsfw = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        return character_create(**kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("characters are created through character_create")


def make_lorebook(owner, **overrides):  # type: ignore[no-untyped-def]
    return lorebook_create(owner=owner, value=lorebook_value(**overrides))
