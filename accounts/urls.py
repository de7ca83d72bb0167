from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("u/<str:username>/", views.profile_public, name="profile"),
    path("settings/", RedirectView.as_view(pattern_name="settings_profile"), name="settings"),
    path("settings/profile/", views.settings_profile, name="settings_profile"),
    path("settings/content/", views.settings_content, name="settings_content"),
    path("settings/api-keys/", views.settings_api_keys, name="settings_api_keys"),
    path(
        "settings/api-keys/<int:key_id>/revoke/",
        views.settings_api_key_revoke,
        name="settings_api_key_revoke",
    ),
]
