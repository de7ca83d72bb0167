"""Lorebooks (SillyTavern "world info") and their two JSON shapes.

One ``Lorebook`` value is read from and written to:

* a SillyTavern world file: ``{"entries": {"<uid>": {"key": [...], ...}}}``,
  camelCase fields, numeric enums, and only some fields present in older files
  (missing ones get the defaults SillyTavern's new-entry template gives);
* a Character Card V2/V3 ``character_book``: spec fields at the top of each
  entry, SillyTavern's own fields in ``entry.extensions`` (snake_case, as
  SillyTavern writes them).

Both directions round-trip: ``from_x(to_x(book)) == book``. Fields a format
does not know are kept in ``extra`` and written back.
"""

from characters.cards.lorebook.book import Lorebook as Lorebook
from characters.cards.lorebook.book import LorebookEntry as LorebookEntry
from characters.cards.lorebook.book import Position as Position
from characters.cards.lorebook.book import Role as Role
from characters.cards.lorebook.book import SelectiveLogic as SelectiveLogic
from characters.cards.lorebook.character_book import lorebook_from_book as lorebook_from_book
from characters.cards.lorebook.character_book import lorebook_to_book as lorebook_to_book
from characters.cards.lorebook.world import world_from_sillytavern as world_from_sillytavern
from characters.cards.lorebook.world import world_to_sillytavern as world_to_sillytavern
