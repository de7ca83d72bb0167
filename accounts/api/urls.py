from django.urls import path
from rest_framework_simplejwt.views import TokenRefreshView, TokenVerifyView

from . import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="token_obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/token/verify/", TokenVerifyView.as_view(), name="token_verify"),
    path("auth/logout/", views.LogoutApi.as_view(), name="logout"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("api-keys/", views.ApiKeyListCreateApi.as_view(), name="api_keys"),
    path("api-keys/<int:key_id>/", views.ApiKeyRevokeApi.as_view(), name="api_key_revoke"),
]
