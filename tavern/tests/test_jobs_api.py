"""The job resource, `GET /api/v1/jobs/<id>/`: its owner sees status, progress, error and
where the result is; anyone else gets a 404, as for a job that does not exist."""

import pytest
from django.urls import reverse

from characters.tests.factories import make_lorebook
from tavern.jobs.progress import progress_write
from tavern.jobs.services import job_create
from tavern.models import BackgroundJob, JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user):  # type: ignore[no-untyped-def]
    # In a test transaction the job is never sent to a worker: it stays queued.
    return job_create(owner=user, kind="lorebook_import", data=b"{}", input_name="world.json", total=600)


def test_the_owner_reads_a_queued_job(user_client, job):
    response = user_client.get(reverse("api:job", args=[job.pk]))

    assert response.status_code == 200
    assert response.json() == {
        "id": job.pk,
        "kind": "lorebook_import",
        "label": "Lorebook import",
        "status": "queued",
        "progress": {"done": 0, "total": 600},
        "error": "",
        "result": None,
        "url": f"/api/v1/jobs/{job.pk}/",
        "page_url": f"/jobs/{job.pk}/",
        "created_at": job.created_at.isoformat().replace("+00:00", "Z"),
        "started_at": None,
        "finished_at": None,
    }


def test_a_running_job_shows_its_live_progress(user_client, job):
    BackgroundJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    progress_write(job.pk, 250, 600)

    response = user_client.get(reverse("api:job", args=[job.pk]))

    assert (response.json()["status"], response.json()["progress"]) == (
        "running",
        {"done": 250, "total": 600},
    )


def test_a_succeeded_job_links_to_what_it_made(user_client, user, job):
    book = make_lorebook(user)
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, progress_done=600, result_id=book.pk
    )

    response = user_client.get(reverse("api:job", args=[job.pk]))

    assert response.json()["progress"] == {"done": 600, "total": 600}
    assert response.json()["result"] == {
        "type": "characters.lorebook",
        "id": book.pk,
        "url": f"/api/v1/lorebooks/{book.pk}/",
        "page_url": f"/lorebooks/{book.pk}/",
    }


def test_a_failed_job_says_why(user_client, job):
    BackgroundJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="Lorebook entry 3: bad.")

    response = user_client.get(reverse("api:job", args=[job.pk]))

    assert (response.json()["status"], response.json()["error"], response.json()["result"]) == (
        "failed",
        "Lorebook entry 3: bad.",
        None,
    )


def test_another_user_gets_404(api_client, other_user, job):
    api_client.force_authenticate(other_user)

    response = api_client.get(reverse("api:job", args=[job.pk]))

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_a_job_needs_a_login(api_client, job):
    response = api_client.get(reverse("api:job", args=[job.pk]))

    assert response.status_code == 401


def test_reading_a_job_takes_two_queries(user_client, job, django_assert_num_queries):
    # 1: the user of the token; 2: the job (progress comes from the cache, the result's
    # links from its id).
    with django_assert_num_queries(2):
        response = user_client.get(reverse("api:job", args=[job.pk]))

    assert response.status_code == 200


def test_the_owner_sees_the_job_page(client, user, job):
    client.force_login(user)

    response = client.get(reverse("job", args=[job.pk]))

    assert response.status_code == 200
    assert response.context["label"] == "Lorebook import"
    assert (response.context["done"], response.context["total"]) == (0, 600)
    assert f'data-job-url="/api/v1/jobs/{job.pk}/"' in response.content.decode()
    assert "Waiting for a worker…" in response.content.decode()


def test_a_running_job_page_says_how_far_it_got(client, user, job, django_assert_num_queries):
    BackgroundJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    progress_write(job.pk, 250, 600)
    client.force_login(user)

    # 1: the session; 2: its user; 3: the job.
    with django_assert_num_queries(3):
        response = client.get(reverse("job", args=[job.pk]))

    page = response.content.decode()
    assert "<span data-job-state>Importing…</span>" in page
    assert "<span data-job-done>250</span> of <span data-job-total>600</span>" in page


def test_another_user_gets_404_on_the_job_page(client, other_user, job):
    client.force_login(other_user)

    response = client.get(reverse("job", args=[job.pk]))

    assert response.status_code == 404


def test_the_schema_documents_the_job_and_the_202_of_imports(client):
    schema = client.get("/api/schema/?format=json").json()

    assert "/api/v1/jobs/{job_id}/" in schema["paths"]
    for path in ("/api/v1/lorebooks/import/", "/api/v1/chats/import/", "/api/v1/characters/import/"):
        responses = schema["paths"][path]["post"]["responses"]
        assert {"201", "202"} <= set(responses)
        assert responses["202"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/JobOutput"
        }
