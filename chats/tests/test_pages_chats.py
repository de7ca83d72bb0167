"""The chat pages: the list, starting and importing a chat, the chat page and the
message fragments its script swaps in."""

from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.models import Visibility
from characters.tests.factories import CharacterFactory, card_data
from chats.models import Chat, Message, Swipe
from chats.services import GenerationRecord, chat_archive, message_append_reply, message_append_user
from chats.sillytavern_jsonl import chat_export_jsonl
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def character(user):  # type: ignore[no-untyped-def]
    return CharacterFactory(owner=user)


@pytest.fixture
def chat(user, character):  # type: ignore[no-untyped-def]
    return make_chat(user, character)


def _offline_reply(chat, text="*Mira smiles.* The cliffs are north."):  # type: ignore[no-untyped-def]
    character = chat.participants.get().character
    return message_append_reply(
        chat=chat,
        character=character,
        content=text,
        generation=GenerationRecord(connection_label="Offline demo", model="offline-demo", tokens_out=8),
    )


class _Elements(HTMLParser):
    """Every start tag with its attributes, to check what markup a page really has."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("chats:list", []),
        ("chats:new", []),
        ("chats:import", []),
        ("chats:detail", [1]),
        ("chats:history", [1]),
        ("chats:message_fragment", [1, 1]),
    ],
    ids=["list", "new", "import", "detail", "history", "fragment"],
)
def test_anonymous_visitors_are_sent_to_log_in(client, name, args):
    response = client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_another_user_gets_404_for_the_chat_its_messages_and_archive(client, other_user, chat):
    message = chat.messages.get()
    client.force_login(other_user)

    responses = [
        client.get(reverse("chats:detail", args=[chat.pk])),
        client.get(reverse("chats:message_fragment", args=[chat.pk, message.pk])),
        client.get(reverse("chats:history", args=[chat.pk]), {"before": 10}),
        client.post(reverse("chats:archive", args=[chat.pk]), {"archived": "1"}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    chat.refresh_from_db()
    assert chat.archived_at is None


def test_a_message_of_another_chat_is_404_in_the_fragment_view(client, user, chat):
    other_chat = make_chat(user)
    client.force_login(user)

    response = client.get(reverse("chats:message_fragment", args=[chat.pk, other_chat.messages.get().pk]))

    assert response.status_code == 404


# ---------------------------------------------------------------- list


@pytest.mark.parametrize("count", [2, 20], ids=["2-chats", "20-chats"])
def test_the_list_runs_the_same_queries_for_any_number_of_chats(
    client, user, character, count, django_assert_num_queries
):
    other = CharacterFactory(owner=user, card=card_data(name="Bram"))
    for index in range(count):
        make_chat(user, character, other) if index % 2 else make_chat(user, character)
    client.force_login(user)

    # session, user, count, chats, their participants with characters
    with django_assert_num_queries(5):
        response = client.get(reverse("chats:list"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == count


def test_the_list_shows_title_preview_and_avatars(client, user, chat):
    _offline_reply(chat, "The cliffs are north of here.")
    client.force_login(user)

    response = client.get(reverse("chats:list"))

    content = response.content.decode()
    assert "Mira the Cartographer" in content
    assert "The cliffs are north of here." in content
    assert reverse("chats:detail", args=[chat.pk]) in content
    assert 'class="char-avatar char-avatar--sm"' in content


def test_search_and_archived_tab(client, user, character):
    bram = CharacterFactory(owner=user, card=card_data(name="Bram the Smith"))
    with_mira = make_chat(user, character)
    with_bram = make_chat(user, bram)
    archived = make_chat(user, bram)
    chat_archive(chat=archived, archived=True)
    client.force_login(user)

    searched = client.get(reverse("chats:list"), {"q": "bram"})
    archived_tab = client.get(reverse("chats:list"), {"tab": "archived"})

    assert [c.pk for c in searched.context["page"].object_list] == [with_bram.pk]
    assert [c.pk for c in archived_tab.context["page"].object_list] == [archived.pk]
    assert with_mira.pk not in [c.pk for c in archived_tab.context["page"].object_list]


def test_only_my_chats_are_listed(client, user, other_user, chat):
    make_chat(other_user)
    client.force_login(user)

    response = client.get(reverse("chats:list"))

    assert [c.pk for c in response.context["page"].object_list] == [chat.pk]


# ---------------------------------------------------------------- new chat


def test_the_character_page_links_to_a_new_chat(client, user, character):
    client.force_login(user)

    response = client.get(reverse("characters:detail", args=[character.pk]))

    assert f"{reverse('chats:new')}?character={character.pk}".encode() in response.content


def test_new_chat_form_offers_the_character_and_the_offline_demo(client, user, character):
    client.force_login(user)

    response = client.get(reverse("chats:new"), {"character": character.pk})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["characters"] == [character.pk]
    assert form.fields["connection"].choices[0] == ("", "Offline demo (canned replies, no model)")
    assert b"Mira the Cartographer" in response.content


def test_starting_a_chat_stores_the_greeting_with_alternates_as_swipes(client, user, character):
    client.force_login(user)
    url = f"{reverse('chats:new')}?character={character.pk}"

    response = client.post(url, {"characters": [character.pk], "persona": "", "connection": "", "title": ""})

    chat = Chat.objects.get(owner=user)
    assert response.status_code == 302
    assert response.url == reverse("chats:detail", args=[chat.pk])
    greeting = chat.messages.get()
    assert greeting.author == "character"
    assert greeting.content.startswith("*Mira unrolls a damp map.*")
    assert greeting.swipe_count == 2
    assert chat.connection is None


def test_a_group_chat_starts_with_two_characters_in_order(client, user, character):
    bram = CharacterFactory(owner=user, card=card_data(name="Bram"))
    client.force_login(user)
    url = f"{reverse('chats:new')}?character={bram.pk}&character={character.pk}"

    response = client.post(url, {"characters": [bram.pk, character.pk], "title": "Harbour crew"})

    chat = Chat.objects.get(owner=user)
    assert response.status_code == 302
    assert chat.title == "Harbour crew"
    assert [p.character_id for p in chat.participants.order_by("position")] == [bram.pk, character.pk]


def test_a_public_character_of_someone_else_can_start_a_chat(client, user, other_user):
    public = CharacterFactory(owner=other_user, visibility=Visibility.PUBLIC)
    client.force_login(user)
    url = f"{reverse('chats:new')}?character={public.pk}"

    response = client.post(url, {"characters": [public.pk]})

    assert response.status_code == 302
    assert Chat.objects.get(owner=user).participants.get().character_id == public.pk


def test_another_users_private_character_is_404(client, user, other_user):
    private = CharacterFactory(owner=other_user)
    client.force_login(user)

    response = client.get(reverse("chats:new"), {"character": private.pk})

    assert response.status_code == 404


def test_a_character_not_offered_is_refused(client, user, other_user):
    private = CharacterFactory(owner=other_user)
    client.force_login(user)

    response = client.post(reverse("chats:new"), {"characters": [private.pk]})

    assert response.status_code == 200
    assert "characters" in response.context["form"].errors
    assert not Chat.objects.filter(owner=user).exists()


# ---------------------------------------------------------------- the chat page


def test_the_chat_page_renders_history_and_the_offline_banner(client, user, chat):
    message_append_user(chat=chat, content="Where are the cliffs?")
    _offline_reply(chat)
    client.force_login(user)

    response = client.get(reverse("chats:detail", args=[chat.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert [item.message.position for item in response.context["items"]] == [1, 2, 3]
    assert "Where are the cliffs?" in content
    assert "<em>Mira smiles.</em> The cliffs are north." in content
    assert "data-offline-banner hidden" not in content
    assert ">offline demo</span>" in content
    assert "1/2" in content  # the greeting's swipes
    assert f'data-socket-path="/ws/chats/{chat.pk}/"' in content


def test_the_chat_page_shows_the_last_50_messages(client, user, chat):
    for index in range(60):
        message_append_user(chat=chat, content=f"line {index}")
    client.force_login(user)

    response = client.get(reverse("chats:detail", args=[chat.pk]))

    positions = [item.message.position for item in response.context["items"]]
    assert positions == list(range(12, 62))
    assert response.context["has_older"] is True


def test_history_returns_the_older_page_as_html(client, user, chat):
    for index in range(60):
        message_append_user(chat=chat, content=f"line {index}")
    client.force_login(user)

    response = client.get(reverse("chats:history", args=[chat.pk]), {"before": 12})

    assert [item.message.position for item in response.context["items"]] == list(range(1, 12))
    assert response.context["has_older"] is False
    assert b'data-has-older="0"' in response.content


def test_the_fragment_is_one_rendered_message(client, user, chat):
    reply = _offline_reply(chat, "**bold** move")
    client.force_login(user)

    response = client.get(reverse("chats:message_fragment", args=[chat.pk, reply.pk]))

    content = response.content.decode()
    assert content.startswith(f'<article class="msg msg--character msg--reply" id="message-{reply.pk}"')
    assert "<strong>bold</strong> move" in content
    assert ">offline demo</span>" in content
    assert "data-swipe-label>1/1<" in content


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="https://evil.example" onclick="steal()">x</a>',
    ],
    ids=["script", "img-onerror", "javascript-link", "raw-anchor"],
)
def test_message_markdown_is_sanitised(client, user, chat, text):
    message, _ = message_append_user(chat=chat, content=f"**bold** {text}")
    client.force_login(user)

    response = client.get(reverse("chats:message_fragment", args=[chat.pk, message.pk]))

    content = response.content.decode()
    tags = _elements(content)
    assert "<strong>bold</strong>" in content
    assert [tag for tag, _ in tags if tag in ("script", "img", "iframe")] == []
    assert [name for _, attrs in tags for name in attrs if name.startswith("on")] == []
    assert [attrs["href"] for tag, attrs in tags if tag == "a" and attrs.get("href")] == []


def test_links_in_messages_get_a_safe_rel(client, user, chat):
    message, _ = message_append_user(chat=chat, content="See [the map](https://maps.example/north)")
    client.force_login(user)

    response = client.get(reverse("chats:message_fragment", args=[chat.pk, message.pk]))

    anchors = [attrs for tag, attrs in _elements(response.content.decode()) if tag == "a"]
    assert anchors == [{"href": "https://maps.example/north", "rel": "noopener noreferrer nofollow"}]


def test_archiving_moves_the_chat_to_the_archived_tab(client, user, chat):
    client.force_login(user)

    response = client.post(reverse("chats:archive", args=[chat.pk]), {"archived": "1"})

    chat.refresh_from_db()
    assert response.status_code == 302
    assert chat.archived_at is not None


# ---------------------------------------------------------------- import


def _jsonl(user) -> bytes:  # type: ignore[no-untyped-def]
    source = make_chat(user)
    message_append_user(chat=source, content="Hello there")
    _offline_reply(source, "Hello yourself.")
    return chat_export_jsonl(chat=source)


def test_importing_a_sillytavern_chat(client, user, character):
    data = _jsonl(user)
    client.force_login(user)

    response = client.post(
        reverse("chats:import"),
        {"file": SimpleUploadedFile("chat.jsonl", data), "character": character.pk},
    )

    chat = Chat.objects.filter(owner=user).order_by("-id").first()
    assert response.status_code == 302
    assert response.url == reverse("chats:detail", args=[chat.pk])
    assert list(chat.messages.order_by("position").values_list("content", flat=True))[1:] == [
        "Hello there",
        "Hello yourself.",
    ]


def test_import_into_another_users_character_is_404(client, user, other_user):
    private = CharacterFactory(owner=other_user)
    data = _jsonl(user)
    before = Chat.objects.count()
    client.force_login(user)

    response = client.post(
        reverse("chats:import"), {"file": SimpleUploadedFile("chat.jsonl", data), "character": private.pk}
    )

    assert response.status_code == 404
    assert Chat.objects.count() == before


def test_a_broken_file_is_a_form_error(client, user):
    client.force_login(user)

    response = client.post(reverse("chats:import"), {"file": SimpleUploadedFile("chat.jsonl", b"not json")})

    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert Message.objects.count() == 0
    assert Swipe.objects.count() == 0


@pytest.mark.parametrize("count", [2, 40], ids=["2-messages", "40-messages"])
def test_the_chat_page_runs_the_same_queries_for_any_number_of_messages(
    client, user, chat, count, django_assert_num_queries
):
    for index in range(count // 2):
        message_append_user(chat=chat, content=f"line {index}")
        _offline_reply(chat, f"reply {index}")
    client.force_login(user)

    # session, user, chat with persona/connection/preset, participants with characters,
    # messages, their swipes' labels, personas, connections, presets, lorebooks, the chat's
    # lorebooks, characters to add
    with django_assert_num_queries(12):
        response = client.get(reverse("chats:detail", args=[chat.pk]))

    assert len(response.context["items"]) == count + 1
