"""Querysets compiled once (tavern.compiled_query): the same rows and instances as the
ORM gives for the same queryset, one statement per call through the connection's
cursor, and a clear refusal of what cannot be compiled once."""

import pytest
from django.db import transaction

from characters.tests.factories import CharacterFactory, card_data
from chats.models import Chat, ChatParticipant, Message
from chats.services import message_append_user
from chats.tests.factories import make_chat
from tavern.compiled_query import CompiledQuery, CompiledQueryError

pytestmark = pytest.mark.django_db

CHAT_WITH_OWNER = CompiledQuery(
    lambda p: (
        Chat.objects.select_related("owner", "persona")
        .only("id", "title", "created_at", "owner__username", "persona__name")
        .filter(pk=p.chat_id, owner_id=p.user_id)[:1]
    )
)


def test_instances_are_those_of_the_orm_related_rows_and_deferred_fields_included(user):
    chat = make_chat(user, title="Harbour night")

    compiled = CHAT_WITH_OWNER.first(chat_id=chat.pk, user_id=user.pk)
    orm = (
        Chat.objects.select_related("owner", "persona")
        .only("id", "title", "created_at", "owner__username", "persona__name")
        .get(pk=chat.pk)
    )

    assert compiled == orm
    assert (compiled.title, compiled.created_at) == (orm.title, orm.created_at)
    assert compiled.created_at.tzinfo is not None  # the fields' converters ran
    assert compiled.get_deferred_fields() == orm.get_deferred_fields()
    assert compiled.owner.username == user.username  # joined, no query
    assert compiled.persona is None
    assert compiled._state.db == "default" and not compiled._state.adding


def test_each_call_is_one_statement_with_that_calls_values(
    user, django_user_model, django_assert_num_queries
):
    mine = make_chat(user)
    other_user = django_user_model.objects.create_user(username="someone-else", password="x" * 12)
    theirs = make_chat(other_user)

    with django_assert_num_queries(1):
        assert CHAT_WITH_OWNER.first(chat_id=mine.pk, user_id=user.pk) == mine
    with django_assert_num_queries(1):
        assert CHAT_WITH_OWNER.first(chat_id=theirs.pk, user_id=user.pk) is None  # another user's chat
    assert CHAT_WITH_OWNER.first(chat_id=theirs.pk, user_id=other_user.pk) == theirs


def test_the_queryset_is_built_and_compiled_once(user):
    built = []

    def build(p):
        built.append(1)
        return ChatParticipant.objects.select_related("character").filter(chat_id=p.chat_id).order_by("pk")

    query = CompiledQuery(build)
    first, second = make_chat(user), make_chat(user)

    assert [p.character.name for p in query.all(chat_id=first.pk)] == [
        p.character.name for p in first.participants.select_related("character")
    ]
    query.all(chat_id=second.pk)
    query.all(chat_id=first.pk)

    assert len(built) == 2  # once with each set of stand-ins, on the first call only


def test_values_list_querysets_give_tuples_and_string_values_are_passed(user):
    chat = make_chat(user)
    message, _ = message_append_user(chat=chat, content="Is the channel clear?", client_id="c-1")
    query = CompiledQuery(
        lambda p: Message.objects.filter(chat_id=p.chat_id, client_id=p.client_id).values_list(
            "id", "content", "created_at"
        ),
        strings=("client_id",),
    )

    rows = query.all(chat_id=chat.pk, client_id="c-1")

    assert rows == [(message.pk, "Is the channel clear?", message.created_at)]
    assert query.all(chat_id=chat.pk, client_id="c-2") == []


def test_it_reads_inside_the_callers_transaction(user):
    chat = make_chat(user)
    with transaction.atomic():
        Chat.objects.filter(pk=chat.pk).update(title="Renamed in the transaction")
        assert CHAT_WITH_OWNER.first(chat_id=chat.pk, user_id=user.pk).title == "Renamed in the transaction"


def test_a_lookup_that_changes_its_value_is_refused_by_name(user):
    chat = make_chat(user)
    contains = CompiledQuery(lambda p: Chat.objects.filter(title__icontains=p.words), strings=("words",))
    starts = CompiledQuery(
        lambda p: Chat.objects.filter(pk=p.chat_id, title__startswith=p.prefix), strings=("prefix",)
    )

    with pytest.raises(CompiledQueryError, match="words: not passed to the SQL as given"):
        contains.all(words="harbour")
    with pytest.raises(CompiledQueryError, match=r"^prefix: "):
        starts.all(chat_id=chat.pk, prefix="Harb")


def test_a_condition_that_depends_on_the_value_is_refused(user):
    """Django drops a lookup whose value is out of its field's range (position is a
    PositiveSmallIntegerField): compiled with such a stand-in, the SQL would lose it."""
    chat = make_chat(user)
    dropped = CompiledQuery(lambda p: Message.objects.filter(chat_id=p.chat_id, swipe_index__lt=p.chat_id))
    empty = CompiledQuery(lambda p: ChatParticipant.objects.filter(position=p.position))

    with pytest.raises(CompiledQueryError, match="SQL changes with the values"):
        dropped.all(chat_id=chat.pk)
    with pytest.raises(CompiledQueryError, match="a condition depends on the value"):
        empty.all(position=0)


def test_prefetching_is_refused():
    query = CompiledQuery(lambda p: Chat.objects.prefetch_related("participants").filter(pk=p.chat_id))

    with pytest.raises(CompiledQueryError, match="prefetch_related"):
        query.all(chat_id=1)


def test_the_values_must_be_exactly_the_names_of_the_queryset(user):
    chat = make_chat(user)

    with pytest.raises(TypeError, match="expected the values"):
        CHAT_WITH_OWNER.all(chat_id=chat.pk)
    with pytest.raises(TypeError, match="expected the values"):
        CHAT_WITH_OWNER.all(chat_id=chat.pk, user_id=user.pk, extra=1)


def test_a_character_with_a_lorebook_reads_as_the_orm_reads_it(user):
    """A wide row (a card with JSON fields) through select_related and defer."""
    character = CharacterFactory(owner=user, card=card_data(name="Aria"))
    chat = make_chat(user, character)
    query = CompiledQuery(
        lambda p: (
            ChatParticipant.objects.select_related("character")
            .defer("character__embedding", "character__search_vector")
            .filter(chat_id=p.chat_id)
            .order_by("pk")
        )
    )

    (participant,) = query.all(chat_id=chat.pk)

    orm = ChatParticipant.objects.select_related("character").get(chat=chat)
    for field in ("name", "description", "tags", "alternate_greetings", "extensions"):
        if hasattr(orm.character, field):
            assert getattr(participant.character, field) == getattr(orm.character, field), field
