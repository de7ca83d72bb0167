from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tavern import health, views
from tavern.jobs.api import JobDetailApi
from tavern.jobs.views import job_page
from tavern.metrics_endpoint import metrics_view

admin.site.site_header = "Tavern back office"
admin.site.site_title = "Tavern admin"
admin.site.index_title = "Moderation, finance and operations"

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("characters.api.urls")),
    path("", include("chats.api.urls")),
    path("jobs/<int:job_id>/", JobDetailApi.as_view(), name="job"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("characters.urls")),
    path("", include("chats.urls")),
    path("jobs/<int:job_id>/", job_page, name="job"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("v1/", include("chats.openai_compat.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "tavern.error_views.not_found"
handler500 = "tavern.error_views.server_error"
