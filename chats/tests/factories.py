from __future__ import annotations

from accounts.models import User
from characters.models import Character
from characters.tests.factories import CharacterFactory, card_data
from chats.models import Chat
from chats.services import chat_create


def make_chat(owner: User, *characters: Character, **options: object) -> Chat:
    if not characters:
        characters = (CharacterFactory(owner=owner, card=card_data()),)
    return chat_create(owner=owner, characters=list(characters), **options)  # type: ignore[arg-type]
