"""The job resource: `GET /api/v1/jobs/<id>/`, and the `202 Accepted` answer an endpoint
gives when it hands work to a job."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tavern.models import BackgroundJob, JobStatus

from .selectors import job_get_for_user, job_label, job_progress, job_result_links


class JobProgressOutput(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class JobResultOutput(serializers.Serializer):
    type = serializers.CharField(help_text="What was made, e.g. characters.lorebook.")
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="The made object in this API.")
    page_url = serializers.CharField(help_text="The made object's page.")


class JobOutput(serializers.Serializer):
    """A background job: poll `url` until `status` is succeeded (then follow `result.url`)
    or failed (then `error` says why; nothing was made)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.SerializerMethodField()
    error = serializers.CharField()
    result = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_label(self, job: BackgroundJob) -> str:
        return job_label(job)

    @extend_schema_field(JobProgressOutput)
    def get_progress(self, job: BackgroundJob) -> dict[str, int]:
        done, total = job_progress(job)
        return {"done": done, "total": total}

    @extend_schema_field(JobResultOutput(allow_null=True))
    def get_result(self, job: BackgroundJob) -> dict[str, Any] | None:
        links = job_result_links(job)
        if links is None:
            return None
        # The kind names what it made; no query for the content type or the object.
        return {"type": links["type"], "id": job.result_id, "url": links["api"], "page_url": links["page"]}

    def get_url(self, job: BackgroundJob) -> str:
        return reverse("api:job", args=[job.pk])

    def get_page_url(self, job: BackgroundJob) -> str:
        return reverse("job", args=[job.pk])


def job_accepted(job: BackgroundJob) -> Response:
    """`202 Accepted` with the job, and where to poll it."""
    response = Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = reverse("api:job", args=[job.pk])
    return response


class JobDetailApi(APIView):
    @extend_schema(operation_id="jobs_retrieve", responses=JobOutput)
    def get(self, request: Request, job_id: int) -> Response:
        job = job_get_for_user(job_id=job_id, user=request.user)
        return Response(JobOutput(job).data)
