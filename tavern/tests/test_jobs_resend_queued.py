"""A job whose message never reached a worker (the broker was down when it was committed)
is sent again by the beat sweep, and runs once, on a real worker."""

import datetime
import json

import pytest
from django.utils import timezone

from characters.cards import world_to_sillytavern
from characters.models import Lorebook
from characters.tests.factories import lorebook_value
from tavern.models import BackgroundJob
from tavern.tasks import jobs_resend_queued
from tavern.testing.jobs import job_wait_finished
from tavern.testing.waits import EVENT_WAIT_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)


def _lost_job(owner, *, minutes_ago: int) -> BackgroundJob:  # type: ignore[no-untyped-def]
    """A queued job whose message was lost: made the way job_create makes one, never sent."""
    from django.core.files.base import ContentFile

    job = BackgroundJob.objects.create(
        owner=owner, kind="lorebook_import", progress_total=2, input_name="w.json"
    )
    job.input_file.save(
        "w.json", ContentFile(json.dumps(world_to_sillytavern(lorebook_value(entries=2))).encode())
    )
    BackgroundJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    return job


def test_a_lost_job_is_sent_again_and_runs_once(user, celery_worker):
    lost = _lost_job(user, minutes_ago=10)
    fresh = _lost_job(user, minutes_ago=0)  # may still be on its way: left alone

    resent = jobs_resend_queued.delay().get(timeout=EVENT_WAIT_SECONDS)
    finished = job_wait_finished(lost.pk)

    assert resent == 1
    assert (finished.status, finished.error) == ("succeeded", "")
    assert Lorebook.objects.filter(owner=user).count() == 1
    fresh.refresh_from_db()
    assert fresh.status == "queued"
