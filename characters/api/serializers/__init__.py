"""Shapes of the characters API: what goes in (validated, never acted on) and what comes out."""

from .characters import CharacterDetailOutput as CharacterDetailOutput
from .characters import CharacterInput as CharacterInput
from .characters import CharacterListOutput as CharacterListOutput
from .characters import CharacterUpdateInput as CharacterUpdateInput
from .characters import FavouriteOutput as FavouriteOutput
from .characters import TagOutput as TagOutput
from .characters import VersionDetailOutput as VersionDetailOutput
from .characters import VersionDiffOutput as VersionDiffOutput
from .characters import VersionOutput as VersionOutput
from .fields import FileUploadInput as FileUploadInput
from .lorebooks import LorebookCreateInput as LorebookCreateInput
from .lorebooks import LorebookEntryInput as LorebookEntryInput
from .lorebooks import LorebookEntryOutput as LorebookEntryOutput
from .lorebooks import LorebookImportInput as LorebookImportInput
from .lorebooks import LorebookInput as LorebookInput
from .lorebooks import LorebookOutput as LorebookOutput
from .personas import PersonaInput as PersonaInput
from .personas import PersonaOutput as PersonaOutput
