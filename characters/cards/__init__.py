"""Character card codecs: V1/V2/V3 JSON, PNG, CHARX and SillyTavern world files.

Pure Python, no Django: everything here turns bytes or decoded JSON into
typed values and back, raising ``CardError`` (a ``ValueError``) for bad input.
"""

from characters.cards.avatar import default_avatar_png as default_avatar_png
from characters.cards.card_file import ParsedCard as ParsedCard
from characters.cards.card_file import export_charx as export_charx
from characters.cards.card_file import export_json as export_json
from characters.cards.card_file import export_png as export_png
from characters.cards.card_file import parse_card_bytes as parse_card_bytes
from characters.cards.errors import CardError as CardError
from characters.cards.lorebook import Lorebook as Lorebook
from characters.cards.lorebook import LorebookEntry as LorebookEntry
from characters.cards.lorebook import Position as Position
from characters.cards.lorebook import Role as Role
from characters.cards.lorebook import SelectiveLogic as SelectiveLogic
from characters.cards.lorebook import lorebook_from_book as lorebook_from_book
from characters.cards.lorebook import lorebook_to_book as lorebook_to_book
from characters.cards.lorebook import world_from_sillytavern as world_from_sillytavern
from characters.cards.lorebook import world_to_sillytavern as world_to_sillytavern
from characters.cards.spec import CardData as CardData
from characters.cards.spec import SpecVersion as SpecVersion
from characters.cards.spec import card_from_json as card_from_json
from characters.cards.spec import card_to_v2_dict as card_to_v2_dict
from characters.cards.spec import card_to_v3_dict as card_to_v3_dict
