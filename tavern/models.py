"""Background jobs: long work (big imports now; media and knowledge ingestion later) that a
Celery worker does while pages and API clients watch its progress.

The model lives in the ground (`tavern`) rather than in an app because every app above
needs it and none may own it: `characters` and `chats` run imports through it today,
`media` will run generations through it, and a lower app may never depend on a higher
one. It refers to the user through `settings.AUTH_USER_MODEL`, as Django's own ground
models do, so the ground still imports nothing from `accounts`. What a job does is not
known here: each app registers its kinds (tavern/jobs/registry.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import Storage, storages
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)


def private_storage() -> Storage:
    """STORAGES["private"]: never served to anyone (see settings)."""
    return storages["private"]


def job_input_upload_to(job: BackgroundJob, filename: str) -> str:
    # Derived from the job, so the worker finds it and nothing else shares it.
    return f"jobs/{job.pk}/{filename}"


class BackgroundJob(models.Model):
    """One piece of long work for one user: what it is, how far it got, what it made."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=50, help_text="A registered kind, e.g. lorebook_import.")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True, help_text="What the kind needs besides the input.")
    input_file = models.FileField(
        upload_to=job_input_upload_to,
        storage=private_storage,
        max_length=300,
        blank=True,
        help_text="The uploaded bytes, kept until the job ends.",
    )
    input_name = models.CharField(
        max_length=255, blank=True, help_text="The upload's name, as the user gave it."
    )
    result_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    result_id = models.PositiveBigIntegerField(null=True, blank=True)
    result = GenericForeignKey("result_type", "result_id")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="job_owner_recent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_done__lte=models.F("progress_total")),
                name="job_progress_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in JobStatus]), name="job_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES
