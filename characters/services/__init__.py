"""Writes for characters, versions, tags, favourites, lorebooks and personas. One module per
resource; every public name is re-exported here, so callers import from `characters.services`."""

from ..limits import MAX_TAGS as MAX_TAGS
from .characters import character_card_read as character_card_read
from .characters import character_create as character_create
from .characters import character_delete as character_delete
from .characters import character_embedding_refresh as character_embedding_refresh
from .characters import character_fork as character_fork
from .characters import character_import as character_import
from .characters import character_import_parsed as character_import_parsed
from .characters import character_moderate as character_moderate
from .characters import character_restore as character_restore
from .characters import character_update as character_update
from .characters import character_version_restore as character_version_restore
from .characters import characters_chat_started as characters_chat_started
from .characters import favourite_set as favourite_set
from .errors import CharacterError as CharacterError
from .lorebooks import Progress as Progress
from .lorebooks import lorebook_create as lorebook_create
from .lorebooks import lorebook_delete as lorebook_delete
from .lorebooks import lorebook_entry_delete as lorebook_entry_delete
from .lorebooks import lorebook_entry_save as lorebook_entry_save
from .lorebooks import lorebook_import_world as lorebook_import_world
from .lorebooks import lorebook_replace as lorebook_replace
from .lorebooks import lorebook_update as lorebook_update
from .lorebooks import lorebook_world_read as lorebook_world_read
from .personas import persona_delete as persona_delete
from .personas import persona_save as persona_save
from .tags import tags_resolve as tags_resolve
