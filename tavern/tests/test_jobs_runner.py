"""A background job's work is done exactly once, whatever the broker delivers: a message
delivered twice, a job another worker holds, a worker lost mid-job, a job that keeps
being interrupted, a bug in the work. The runner is called here as the task calls it;
tests/test_import_jobs_* run the same jobs on a real worker."""

import json
import logging

import pytest
from django.core.files.storage import storages

from accounts.tests.factories import UserFactory
from characters.cards import world_to_sillytavern
from characters.models import Lorebook
from characters.tests.factories import lorebook_value
from tavern.jobs.registry import JobKind, job_kind_register
from tavern.jobs.runner import FAILED_ON_OUR_SIDE, job_execute
from tavern.jobs.services import job_create
from tavern.models import BackgroundJob, JobStatus
from tavern.testing.row_locks import rows_locked_elsewhere

pytestmark = pytest.mark.django_db(transaction=True)

LOCK_WAIT_SECONDS = 60


def _world_job(owner) -> BackgroundJob:  # type: ignore[no-untyped-def]
    data = json.dumps(world_to_sillytavern(lorebook_value(entries=3))).encode()
    return job_create(owner=owner, kind="lorebook_import", data=data, input_name="world.json", total=3)


def test_a_job_delivered_twice_imports_once():
    job = _world_job(UserFactory())

    first = job_execute(job_id=job.pk)
    second = job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert (first, second) == ("succeeded", "skipped")
    assert (job.status, job.attempts, job.progress_done, job.progress_total) == ("succeeded", 1, 3, 3)
    assert Lorebook.objects.filter(owner=job.owner).count() == 1
    assert job.result_id == Lorebook.objects.get(owner=job.owner).pk


def test_a_job_another_worker_holds_is_left_alone():
    job = _world_job(UserFactory())
    with rows_locked_elsewhere(BackgroundJob.objects.filter(pk=job.pk)):  # another worker's
        while_held = job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert while_held == "skipped"
    assert (job.status, job.attempts) == ("queued", 0)
    assert Lorebook.objects.count() == 0


def test_a_job_whose_worker_was_lost_runs_again():
    # The lost worker's transaction rolled back: the job says running, nothing was made.
    job = _world_job(UserFactory())
    BackgroundJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1)

    status = job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert status == "succeeded"
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert Lorebook.objects.count() == 1


def test_a_job_interrupted_too_often_fails_without_running():
    job = _world_job(UserFactory())
    BackgroundJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=3)
    stored = job.input_file.name

    status = job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert status == "failed"
    assert (job.status, job.error) == ("failed", "The job was interrupted 3 times and is not tried again.")
    assert job.finished_at is not None
    assert Lorebook.objects.count() == 0
    assert (job.input_file.name, storages["private"].exists(stored)) == ("", False)


def test_the_stored_upload_is_deleted_when_the_job_ends():
    job = _world_job(UserFactory())
    stored = job.input_file.name

    job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert stored == f"jobs/{job.pk}/world.json"
    assert (job.input_file.name, storages["private"].exists(stored)) == ("", False)


def _explodes(job: BackgroundJob, data: bytes, progress: object) -> Lorebook:
    raise RuntimeError("a bug in the work")


job_kind_register(
    JobKind(name="test_explodes", label="Explodes", doing="Exploding", run=_explodes, links=lambda pk: {})
)


def test_a_bug_in_the_work_fails_the_job_with_a_logged_message(caplog):
    job = job_create(owner=UserFactory(), kind="test_explodes", data=b"x", input_name="x.bin", total=1)

    with caplog.at_level(logging.ERROR, logger="tavern.jobs.runner"):
        status = job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert status == "failed"
    assert (job.status, job.error) == ("failed", FAILED_ON_OUR_SIDE)
    assert [record.getMessage() for record in caplog.records] == [f"background job {job.pk} failed"]
    assert caplog.records[0].exc_info[1].args == ("a bug in the work",)


def test_a_job_that_is_gone_is_skipped():
    assert job_execute(job_id=2**40) == "skipped"
