"""The read replica: only reads that opt in with `reading_from_replica()` go there, never
inside a transaction, never writes or migrations; nothing changes without a replica.

The test settings give a second alias, `replica`, on the same test database (Django's test
mirror) and leave it off; these tests turn it on. They run outside the test's wrapping
transaction (`transaction=True`), since a read inside one stays on the primary by design."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from characters.models import Character, Favourite, Visibility
from characters.selectors import SearchFilters, character_search, character_similar, with_favourite_flag
from characters.tests.factories import CharacterFactory, card_data
from tavern.db_router import PrimaryReplicaRouter, read_database, reading_from_replica

BOTH = ["default", "replica"]
on_both_databases = pytest.mark.django_db(transaction=True, databases=BOTH)
router = PrimaryReplicaRouter()


@pytest.fixture
def replica_on(settings):  # type: ignore[no-untyped-def]
    settings.DATABASE_READ_REPLICA = "replica"


def _public(name: str, **fields: object) -> Character:
    return CharacterFactory(card=card_data(name=name), visibility=Visibility.PUBLIC, **fields)


# ---------------------------------------------------------------- the router's choices


@on_both_databases
def test_reads_go_to_the_replica_only_inside_the_block(replica_on):  # type: ignore[no-untyped-def]
    assert router.db_for_read(Character) == "default"
    with reading_from_replica():
        assert router.db_for_read(Character) == "replica"
        assert read_database() == "replica"
    assert router.db_for_read(Character) == "default"


@on_both_databases
def test_the_block_is_also_a_decorator(replica_on):  # type: ignore[no-untyped-def]
    @reading_from_replica()
    def choice() -> str:
        return router.db_for_read(Character)

    assert choice() == "replica"
    assert router.db_for_read(Character) == "default"


@on_both_databases
def test_inside_a_transaction_reads_stay_on_the_primary(replica_on):  # type: ignore[no-untyped-def]
    with transaction.atomic(), reading_from_replica():
        assert router.db_for_read(Character) == "default"
    with reading_from_replica(), transaction.atomic():
        assert router.db_for_read(Character) == "default"


def test_without_a_replica_the_block_changes_nothing(settings):  # type: ignore[no-untyped-def]
    settings.DATABASE_READ_REPLICA = ""
    with reading_from_replica():
        assert router.db_for_read(Character) == "default"
        assert read_database() == "default"


@pytest.mark.parametrize("in_block", [False, True], ids=["outside the block", "inside the block"])
@on_both_databases
def test_writes_go_to_the_primary(replica_on, in_block):  # type: ignore[no-untyped-def]
    # Given a row read from the replica
    character = _public("Seraphina")
    with reading_from_replica():
        row = Character.objects.get(pk=character.pk)
    assert row._state.db == "replica"

    # then every write goes to the primary, whatever the block says
    if in_block:
        with reading_from_replica():
            assert router.db_for_write(Character, instance=row) == "default"
    else:
        assert router.db_for_write(Character, instance=row) == "default"

    # and saving it writes the primary
    row.name = "Seraphina the Second"
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        row.save(update_fields=["name"])
    assert on_replica.captured_queries == []
    assert Character.objects.using("default").get(pk=character.pk).name == "Seraphina the Second"


@on_both_databases
def test_related_rows_of_a_replica_row_come_from_the_replica(replica_on):  # type: ignore[no-untyped-def]
    character = _public("Seraphina")
    with reading_from_replica():
        row = Character.objects.get(pk=character.pk)

    assert router.db_for_read(Character, instance=row) == "replica"
    assert router.db_for_read(Character, instance=character) == "default"
    with transaction.atomic():
        assert router.db_for_read(Character, instance=row) == "default"
    assert router.allow_relation(row, character) is True


@pytest.mark.parametrize(
    ("database", "allowed"), [("default", True), ("replica", False)], ids=["primary", "replica"]
)
def test_migrations_run_on_the_primary_only(database, allowed):  # type: ignore[no-untyped-def]
    assert router.allow_migrate(database, "characters", model_name="character") is allowed


# ---------------------------------------------------------------- selectors that opt in


@on_both_databases
def test_search_reads_the_replica(replica_on):  # type: ignore[no-untyped-def]
    # Given public characters and a private one, written to the primary
    _public("Seraphina", owner=UserFactory(username="ana"))
    _public("Lilith", owner=UserFactory(username="ben"))
    CharacterFactory(card=card_data(name="Secret"), visibility=Visibility.PRIVATE)

    # When the library is searched
    queryset = character_search(user=UserFactory(), filters=SearchFilters(sort="new"))

    # then the page and its tags are read from the replica, nothing from the primary
    assert queryset.db == "replica"
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        names = [character.name for character in queryset]
    assert names == ["Lilith", "Seraphina"]
    assert len(on_primary.captured_queries) == 0
    assert len(on_replica.captured_queries) == 2  # the characters, their tags


@on_both_databases
def test_search_inside_a_transaction_reads_the_primary(replica_on):  # type: ignore[no-untyped-def]
    _public("Seraphina")
    with transaction.atomic():
        queryset = character_search(user=UserFactory(), filters=SearchFilters())
        assert queryset.db == "default"
        assert [character.name for character in queryset] == ["Seraphina"]


@on_both_databases
def test_the_viewers_favourites_are_read_from_the_primary(replica_on):  # type: ignore[no-untyped-def]
    # Given a viewer who has just favourited a character
    viewer = UserFactory()
    character = _public("Seraphina")
    Favourite.objects.create(user=viewer, character=character)

    # then the library page that shows their hearts reads the primary
    queryset = with_favourite_flag(character_search(user=viewer, filters=SearchFilters()), user=viewer)
    assert queryset.db == "default"
    assert [(row.name, row.is_favourite) for row in queryset] == [("Seraphina", True)]


@on_both_databases
def test_similar_characters_are_read_from_the_replica(replica_on):  # type: ignore[no-untyped-def]
    seraphina, lilith, dante = _public("Seraphina"), _public("Lilith"), _public("Dante")
    for character, first in ((seraphina, 1.0), (lilith, 0.9), (dante, -1.0)):
        Character.objects.filter(pk=character.pk).update(embedding=[first] + [0.1] * 383)
    seraphina.refresh_from_db()
    viewer = UserFactory()

    with CaptureQueriesContext(connections["default"]) as on_primary:
        similar = character_similar(character=seraphina, user=viewer, limit=2)

    assert [character.name for character in similar] == ["Lilith", "Dante"]
    assert {character._state.db for character in similar} == {"replica"}
    assert len(on_primary.captured_queries) == 0


@on_both_databases
def test_the_search_api_answers_from_the_replica(replica_on, client):  # type: ignore[no-untyped-def]
    _public("Seraphina")
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = client.get(reverse("api:character_search"), {"q": "Seraphina"})
    assert response.status_code == 200
    assert [item["name"] for item in response.json()["results"]] == ["Seraphina"]
    assert len(on_replica.captured_queries) == 2  # the count, the page (tag names inline)


# ---------------------------------------------------------------- configuration


def test_the_replica_url_gets_the_primarys_connection_options() -> None:
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'routers': settings.DATABASE_ROUTERS, 'read': settings.DATABASE_READ_REPLICA, "
        "'aliases': sorted(settings.DATABASES), **{k: settings.DATABASES['replica'][k] for k in "
        "('HOST', 'NAME', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'OPTIONS')}}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tavern.settings.base",
        "DATABASE_URL": "postgres://tavern:pw@primary:5432/tavern",
        "DATABASE_REPLICA_URL": "postgres://tavern:pw@replica:5432/tavern",
        "DATABASE_CONN_MAX_AGE": "30",
        "REDIS_URL": "redis://redis:6379/0",
        "SECRET_KEY": "replica-settings-check-not-a-real-key",
        "FIELD_ENCRYPTION_KEYS": "bm90LWEtcmVhbC1rZXktYnV0LTQ0LWNoYXJzLWxvbmc9",
    }
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(output) == {
        "routers": ["tavern.db_router.PrimaryReplicaRouter"],
        "read": "replica",
        "aliases": ["default", "replica"],
        "HOST": "replica",
        "NAME": "tavern",
        "CONN_MAX_AGE": 30,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"options": "-c pg_trgm.word_similarity_threshold=0.4 -c hnsw.ef_search=100"},
    }
