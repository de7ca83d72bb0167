import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_unknown_page_answers_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"Nothing here" in response.content


def test_malformed_json_is_a_400_in_the_error_shape(user_client):
    response = user_client.generic("PATCH", reverse("api:me"), "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_wrong_method_is_a_405_in_the_error_shape(user_client):
    response = user_client.put(reverse("api:me"), {})

    assert response.status_code == 405
    assert response.json() == {
        "error": {"code": "method_not_allowed", "message": 'Method "PUT" not allowed.'}
    }


def test_throttled_requests_get_a_429_in_the_error_shape(user_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "2/min", "auth": "2/min"},
    }

    codes = [user_client.get(reverse("api:me")).status_code for _ in range(3)]
    last = user_client.get(reverse("api:me"))

    assert codes == [200, 200, 429]
    assert last.json()["error"]["code"] == "throttled"
    assert int(last["Retry-After"]) > 0
