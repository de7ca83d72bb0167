from django.urls import path

from . import views

app_name = "characters"

urlpatterns = [
    path("characters/", views.character_browse, name="browse"),
    path("characters/new/", views.character_create, name="create"),
    path("characters/import/", views.character_import, name="import"),
    path("characters/mine/", views.characters_mine, name="mine"),
    path("characters/tokens/", views.token_counts, name="tokens"),
    path("characters/<int:character_id>/", views.character_detail, name="detail"),
    path("characters/<int:character_id>/edit/", views.character_edit, name="edit"),
    path("characters/<int:character_id>/delete/", views.character_delete, name="delete"),
    path("characters/<int:character_id>/restore/", views.character_restore, name="restore"),
    path("characters/<int:character_id>/favourite/", views.character_favourite, name="favourite"),
    path("characters/<int:character_id>/fork/", views.character_fork, name="fork"),
    path("characters/<int:character_id>/export/<str:fmt>/", views.character_export, name="export"),
    path("characters/<int:character_id>/versions/", views.character_versions, name="versions"),
    path(
        "characters/<int:character_id>/versions/<int:number>/restore/",
        views.character_version_restore,
        name="version_restore",
    ),
    path("lorebooks/", views.lorebook_list, name="lorebooks"),
    path("lorebooks/import/", views.lorebook_import, name="lorebook_import"),
    path("lorebooks/<int:lorebook_id>/", views.lorebook_edit, name="lorebook"),
    path("lorebooks/<int:lorebook_id>/delete/", views.lorebook_delete, name="lorebook_delete"),
    path("lorebooks/<int:lorebook_id>/export/", views.lorebook_export, name="lorebook_export"),
    path("lorebooks/<int:lorebook_id>/entries/new/", views.lorebook_entry_edit, name="lorebook_entry_new"),
    path(
        "lorebooks/<int:lorebook_id>/entries/<int:entry_id>/",
        views.lorebook_entry_edit,
        name="lorebook_entry",
    ),
    path(
        "lorebooks/<int:lorebook_id>/entries/<int:entry_id>/delete/",
        views.lorebook_entry_delete,
        name="lorebook_entry_delete",
    ),
    path("settings/personas/", views.persona_list, name="personas"),
    path("settings/personas/new/", views.persona_edit, name="persona_new"),
    path("settings/personas/<int:persona_id>/", views.persona_edit, name="persona"),
    path("settings/personas/<int:persona_id>/delete/", views.persona_delete, name="persona_delete"),
]
