"""Every log line carries the request id (and the user id); production logs are JSON."""

import io
import json
import logging

import pytest
from django.test import RequestFactory
from pythonjsonlogger.json import JsonFormatter

from tavern.request_context import RequestContextFilter, RequestIdMiddleware


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s"))
    logger = logging.getLogger("tavern.test.requests")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_a_log_line_inside_a_request_carries_its_id_as_json(json_log):
    logger, stream = json_log

    def view(request):
        from django.http import HttpResponse

        logger.info("handling")
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-42"))

    line = json.loads(stream.getvalue().strip())
    assert response["X-Request-ID"] == "req-42"
    assert (line["message"], line["request_id"], line["user_id"]) == ("handling", "req-42", "-")


def test_outside_a_request_the_id_is_a_dash(json_log):
    logger, stream = json_log

    logger.info("background")

    assert json.loads(stream.getvalue().strip())["request_id"] == "-"


def test_an_unsafe_incoming_id_is_replaced(json_log):
    response = RequestIdMiddleware(lambda request: __import__("django.http").http.HttpResponse())(
        RequestFactory().get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    )

    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32
