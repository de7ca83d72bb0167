from django.urls import path

from . import views

app_name = "chats"

urlpatterns = [
    path("chats/", views.chat_list, name="list"),
    path("chats/new/", views.chat_new, name="new"),
    path("chats/import/", views.chat_import, name="import"),
    path("chats/<int:chat_id>/", views.chat_detail, name="detail"),
    path("chats/<int:chat_id>/archive/", views.chat_archive_toggle, name="archive"),
    path("chats/<int:chat_id>/history/", views.message_history, name="history"),
    path(
        "chats/<int:chat_id>/messages/<int:message_id>/fragment/",
        views.message_fragment,
        name="message_fragment",
    ),
    path("settings/connections/", views.connection_list, name="connections"),
    path("settings/connections/new/", views.connection_edit, name="connection_new"),
    path("settings/connections/<int:connection_id>/", views.connection_edit, name="connection"),
    path(
        "settings/connections/<int:connection_id>/delete/",
        views.connection_delete,
        name="connection_delete",
    ),
    path("settings/presets/", views.preset_list, name="presets"),
    path("settings/presets/new/", views.preset_edit, name="preset_new"),
    path("settings/presets/<int:preset_id>/", views.preset_edit, name="preset"),
    path("settings/presets/<int:preset_id>/delete/", views.preset_delete, name="preset_delete"),
    path("settings/usage/", views.usage, name="usage"),
]
