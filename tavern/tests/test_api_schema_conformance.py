"""The OpenAPI schema tells the truth, and no input makes the API fail (schemathesis).

For every operation of /api/schema/, cases generated from the schema (valid ones, and
ones that break it) are sent in process to the real application, as a user who owns
one of everything, with path ids that are either theirs or random. Every answer must
not be a server error, must have a documented status code, and must match the
documented body. Bounded examples, fixed seed: the same cases on every run."""

import json
import re
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # In process through WSGI, a streamed reply is read synchronously; daphne serves it async.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators"),
]

EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _spec() -> dict[str, Any]:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


@pytest.fixture
def owned_ids(user) -> dict[str, int]:
    """One of everything, owned by `user`: path ids that reach real objects."""
    from accounts.services import api_key_create
    from characters.services import persona_save
    from characters.tests.factories import CharacterFactory, card_data, make_lorebook
    from chats.services import connection_save, preset_save
    from chats.tests.factories import make_chat

    character = CharacterFactory(owner=user, card=card_data())
    book = make_lorebook(user, entries=1)
    chat = make_chat(user, character)
    return {
        "character_id": character.pk,
        "number": 1,
        "lorebook_id": book.pk,
        "entry_id": book.entries.first().pk,
        "chat_id": chat.pk,
        "message_id": chat.messages.first().pk,
        "persona_id": persona_save(owner=user, persona=None, data={"name": "Wanderer"}).pk,
        "preset_id": preset_save(owner=user, preset=None, data={"name": "Warm"}).pk,
        "connection_id": connection_save(
            owner=user,
            connection=None,
            data={"name": "Local", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        ).pk,
        "key_id": api_key_create(user=user, name="schema").key.pk,
    }


def _operations() -> list[str]:
    from django.conf import settings as django_settings  # settings are ready at collection

    assert django_settings.configured
    spec = _spec()
    return [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.mark.parametrize("operation_label", _operations())
def test_the_api_answers_every_generated_case_as_documented(operation_label, user, owned_ids):
    method, path = operation_label.split(" ", 1)
    schema = schemathesis.openapi.from_dict(_spec())
    [operation] = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().method.upper() == method and result.ok().path == path
    ]
    app = get_wsgi_application()
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
    path_names = re.findall(r"{(\w+)}", path)

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)
    )
    def answers_as_documented(case):
        for name in path_names:
            generated = (case.path_parameters or {}).get(name)
            if isinstance(generated, int) and generated % 2 == 0 and name in owned_ids:
                case.path_parameters[name] = owned_ids[name]  # half the cases reach a real object
        case.call_and_validate(app=app, headers=headers, checks=CHECKS)

    answers_as_documented()
