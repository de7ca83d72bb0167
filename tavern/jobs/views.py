"""The job page: what a background job is doing, kept current by static/js/job.js, which
polls the job API; the finished job links to what it made."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from .selectors import job_doing, job_get_for_user, job_label, job_progress, job_result_links


@login_required
@require_GET
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get_for_user(job_id=job_id, user=request.user)
    done, total = job_progress(job)
    context = {
        "job": job,
        "label": job_label(job),
        "doing": job_doing(job),
        "done": done,
        "total": total,
        "links": job_result_links(job),
        "api_url": reverse("api:job", args=[job.pk]),
    }
    return render(request, "jobs/detail.html", context)
