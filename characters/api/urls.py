from django.urls import path

from . import views

urlpatterns = [
    # characters
    path("characters/", views.CharacterListCreateApi.as_view(), name="characters"),
    path("characters/import/", views.CharacterImportApi.as_view(), name="character_import"),
    path("characters/search/", views.CharacterSearchApi.as_view(), name="character_search"),
    path("characters/<int:character_id>/", views.CharacterDetailApi.as_view(), name="character"),
    path(
        "characters/<int:character_id>/restore/",
        views.CharacterRestoreApi.as_view(),
        name="character_restore",
    ),
    path("characters/<int:character_id>/fork/", views.CharacterForkApi.as_view(), name="character_fork"),
    path(
        "characters/<int:character_id>/favourite/",
        views.CharacterFavouriteApi.as_view(),
        name="character_favourite",
    ),
    path(
        "characters/<int:character_id>/export/", views.CharacterExportApi.as_view(), name="character_export"
    ),
    path(
        "characters/<int:character_id>/similar/",
        views.CharacterSimilarApi.as_view(),
        name="character_similar",
    ),
    # versions
    path(
        "characters/<int:character_id>/versions/",
        views.CharacterVersionListApi.as_view(),
        name="character_versions",
    ),
    path(
        "characters/<int:character_id>/versions/diff/",
        views.CharacterVersionDiffApi.as_view(),
        name="character_version_diff",
    ),
    path(
        "characters/<int:character_id>/versions/<int:number>/",
        views.CharacterVersionDetailApi.as_view(),
        name="character_version",
    ),
    path(
        "characters/<int:character_id>/versions/<int:number>/restore/",
        views.CharacterVersionRestoreApi.as_view(),
        name="character_version_restore",
    ),
    # tags
    path("tags/", views.TagListApi.as_view(), name="tags"),
    # lorebooks
    path("lorebooks/", views.LorebookListCreateApi.as_view(), name="lorebooks"),
    path("lorebooks/import/", views.LorebookImportApi.as_view(), name="lorebook_import"),
    path("lorebooks/<int:lorebook_id>/", views.LorebookDetailApi.as_view(), name="lorebook"),
    path("lorebooks/<int:lorebook_id>/export/", views.LorebookExportApi.as_view(), name="lorebook_export"),
    path(
        "lorebooks/<int:lorebook_id>/entries/",
        views.LorebookEntryListCreateApi.as_view(),
        name="lorebook_entries",
    ),
    path(
        "lorebooks/<int:lorebook_id>/entries/<int:entry_id>/",
        views.LorebookEntryDetailApi.as_view(),
        name="lorebook_entry",
    ),
    # personas
    path("personas/", views.PersonaListCreateApi.as_view(), name="personas"),
    path("personas/<int:persona_id>/", views.PersonaDetailApi.as_view(), name="persona"),
]
