"""The characters API, one view per operation, grouped by what they serve."""

from .card_files import CharacterExportApi as CharacterExportApi
from .card_files import CharacterImportApi as CharacterImportApi
from .characters import CharacterDetailApi as CharacterDetailApi
from .characters import CharacterFavouriteApi as CharacterFavouriteApi
from .characters import CharacterForkApi as CharacterForkApi
from .characters import CharacterListCreateApi as CharacterListCreateApi
from .characters import CharacterRestoreApi as CharacterRestoreApi
from .discovery import CharacterSearchApi as CharacterSearchApi
from .discovery import CharacterSimilarApi as CharacterSimilarApi
from .discovery import TagListApi as TagListApi
from .lorebooks import LorebookDetailApi as LorebookDetailApi
from .lorebooks import LorebookEntryDetailApi as LorebookEntryDetailApi
from .lorebooks import LorebookEntryListCreateApi as LorebookEntryListCreateApi
from .lorebooks import LorebookExportApi as LorebookExportApi
from .lorebooks import LorebookImportApi as LorebookImportApi
from .lorebooks import LorebookListCreateApi as LorebookListCreateApi
from .personas import PersonaDetailApi as PersonaDetailApi
from .personas import PersonaListCreateApi as PersonaListCreateApi
from .versions import CharacterVersionDetailApi as CharacterVersionDetailApi
from .versions import CharacterVersionDiffApi as CharacterVersionDiffApi
from .versions import CharacterVersionListApi as CharacterVersionListApi
from .versions import CharacterVersionRestoreApi as CharacterVersionRestoreApi
