from django.urls import path

from . import views

urlpatterns = [
    path("chats/", views.ChatListCreateApi.as_view(), name="chats"),
    path("chats/import/", views.ChatImportApi.as_view(), name="chat_import"),
    path("chats/<int:chat_id>/", views.ChatDetailApi.as_view(), name="chat"),
    path("chats/<int:chat_id>/archive/", views.ChatArchiveApi.as_view(), name="chat_archive"),
    path("chats/<int:chat_id>/branch/", views.ChatBranchApi.as_view(), name="chat_branch"),
    path("chats/<int:chat_id>/stop/", views.ChatStopApi.as_view(), name="chat_stop"),
    path("chats/<int:chat_id>/export/", views.ChatExportApi.as_view(), name="chat_export"),
    path(
        "chats/<int:chat_id>/prompt-preview/",
        views.ChatPromptPreviewApi.as_view(),
        name="chat_prompt_preview",
    ),
    path("chats/<int:chat_id>/participants/", views.ParticipantAddApi.as_view(), name="chat_participants"),
    path(
        "chats/<int:chat_id>/participants/<int:character_id>/",
        views.ParticipantDetailApi.as_view(),
        name="chat_participant",
    ),
    path("chats/<int:chat_id>/messages/", views.MessageListSendApi.as_view(), name="chat_messages"),
    path(
        "chats/<int:chat_id>/messages/<int:message_id>/",
        views.MessageDetailApi.as_view(),
        name="chat_message",
    ),
    path(
        "chats/<int:chat_id>/messages/<int:message_id>/regenerate/",
        views.MessageRegenerateApi.as_view(),
        name="chat_message_regenerate",
    ),
    path(
        "chats/<int:chat_id>/messages/<int:message_id>/continue/",
        views.MessageContinueApi.as_view(),
        name="chat_message_continue",
    ),
    path(
        "chats/<int:chat_id>/messages/<int:message_id>/swipe/",
        views.MessageSwipeApi.as_view(),
        name="chat_message_swipe",
    ),
    path("connections/", views.ConnectionListCreateApi.as_view(), name="connections"),
    path("connections/<int:connection_id>/", views.ConnectionDetailApi.as_view(), name="connection"),
    path("connections/<int:connection_id>/test/", views.ConnectionTestApi.as_view(), name="connection_test"),
    path("presets/", views.PresetListCreateApi.as_view(), name="presets"),
    path("presets/import/", views.PresetImportApi.as_view(), name="preset_import"),
    path("presets/<int:preset_id>/", views.PresetDetailApi.as_view(), name="preset"),
    path("usage/", views.UsageApi.as_view(), name="usage"),
]
