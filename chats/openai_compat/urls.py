from django.urls import path

from . import views

app_name = "openai_compat"

urlpatterns = [
    path("models", views.models_list, name="models"),
    path("models/<str:model>", views.model_detail, name="model"),
    path("chat/completions", views.chat_completions, name="chat_completions"),
]
