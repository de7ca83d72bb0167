"""The Celery app: Redis broker, results in the database, beat schedules in admin."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.local")

app = Celery("tavern")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
