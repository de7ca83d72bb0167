"""Private chats in the back office: moderators see metadata; reading the text is an
explicit request with a reason, logged in the audit log, personal and short-lived;
the audit log itself is read-only for everyone."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEntry, AuditKind
from accounts.services import AccountError
from accounts.tests.factories import UserFactory, staff_with_role
from chats.models import Chat, Message, Swipe
from chats.private_access import private_content_access_grant
from chats.services import message_append_user
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db

CHATS = "/admin/chats/chat/"
MESSAGES = "/admin/chats/message/"
SWIPES = "/admin/chats/swipe/"
AUDIT = "/admin/accounts/auditentry/"
SECRET = "The secret plan is hidden under the old oak."
REASON = "User report says this chat shares self-harm instructions."


@pytest.fixture
def moderator():
    return staff_with_role("moderator")


@pytest.fixture
def chat():
    chat = make_chat(UserFactory(username="alice"), title="Evening at the inn")
    message_append_user(chat=chat, content=SECRET)
    return chat


def _grant(staff, chat, reason=REASON, reference="report 1207"):
    return private_content_access_grant(staff=staff, chat=chat, reason=reason, reference=reference)


def _expire(entry):
    # the grant as if requested an hour ago
    an_hour_ago = timezone.now() - timedelta(hours=1)
    AuditEntry.objects.filter(pk=entry.pk).update(
        created_at=an_hour_ago, expires_at=an_hour_ago + timedelta(minutes=30)
    )


# ---------------------------------------------------------------- without a grant


def test_the_chat_list_shows_metadata_and_no_text(client, moderator, chat):
    client.force_login(moderator)

    html = client.get(CHATS).content.decode()

    assert "Evening at the inn" in html
    assert "alice" in html
    assert SECRET not in html
    assert "secret plan" not in html


def test_the_chat_list_is_not_searchable_by_text(client, moderator, chat):
    client.force_login(moderator)

    by_text = client.get(CHATS, {"q": "secret plan"}).content.decode()
    by_title = client.get(CHATS, {"q": "Evening"}).content.decode()

    assert "Evening at the inn" not in by_text
    assert "Evening at the inn" in by_title


def test_opening_a_chat_shows_no_text_and_offers_the_request_form(client, moderator, chat):
    Chat.objects.filter(pk=chat.pk).update(summary="Summary: they planned something under the oak.")
    chat.refresh_from_db()
    assert chat.last_message_preview.startswith("The secret plan")  # what must not show
    client.force_login(moderator)

    response = client.get(f"{CHATS}{chat.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Evening at the inn" in html
    assert SECRET not in html
    assert "secret plan" not in html  # nor the last-message preview
    assert "under the oak" not in html  # nor the summary
    assert f'<form method="post" action="{CHATS}{chat.pk}/access/">' in html
    assert 'value="Request access"' in html
    assert 'name="reason"' in html
    assert 'name="reference"' in html
    assert AuditEntry.objects.count() == 0  # looking is not access


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (
            {"reference": "report 1207"},
            {"reason": ["Give a reason: reading a private chat is logged with it."]},
        ),
        (
            {"reference": "report 1207", "reason": "   "},
            {"reason": ["Give a reason: reading a private chat is logged with it."]},
        ),
        (
            {"reference": "report 1207", "reason": "because"},
            {"reason": ["Ensure this value has at least 10 characters (it has 7)."]},
        ),
        ({"reason": REASON}, {"reference": ["Give the report id or the legal request number."]}),
    ],
    ids=["no-reason", "blank-reason", "short-reason", "no-reference"],
)
def test_a_request_without_a_reason_or_reference_is_refused_naming_the_field(
    client, moderator, chat, form, errors
):
    client.force_login(moderator)

    response = client.post(f"{CHATS}{chat.pk}/access/", form)

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    html = response.content.decode()
    assert next(iter(errors.values()))[0] in html
    assert SECRET not in html
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        MESSAGES,
        f"{MESSAGES}?q=secret",
        f"{SWIPES}",
        f"{SWIPES}?q=secret",
    ],
    ids=["messages", "message-search", "swipes", "swipe-search"],
)
def test_no_list_crosses_chats(client, moderator, chat, path):
    client.force_login(moderator)

    response = client.get(path)

    assert (response.status_code, response["Location"]) == (302, CHATS)


def test_message_and_swipe_pages_of_a_chat_without_a_grant_lead_to_its_request_form(client, moderator, chat):
    message = Message.objects.get(chat=chat, content=SECRET)
    swipe = Swipe.objects.filter(message__chat=chat).first()
    client.force_login(moderator)

    responses = [
        client.get(MESSAGES, {"chat": chat.pk}),
        client.get(MESSAGES, {"chat": chat.pk, "q": "secret"}),
        client.get(f"{MESSAGES}{message.pk}/change/"),
        client.get(SWIPES, {"chat": chat.pk}),
        client.get(f"{SWIPES}{swipe.pk}/change/"),
    ]

    form = f"{CHATS}{chat.pk}/change/#private-access"
    assert [(r.status_code, r["Location"]) for r in responses] == [(302, form)] * 5


def test_messages_and_swipes_are_not_on_the_admin_index(client, moderator):
    client.force_login(moderator)

    html = client.get("/admin/").content.decode()

    assert f'href="{CHATS}"' in html
    assert MESSAGES not in html
    assert SWIPES not in html


# ---------------------------------------------------------------- requesting access


def test_a_request_with_a_reason_is_logged_and_shows_the_text(client, moderator, chat):
    client.force_login(moderator)

    response = client.post(
        f"{CHATS}{chat.pk}/access/", {"reason": f"  {REASON} ", "reference": " report 1207 "}
    )

    assert (response.status_code, response["Location"]) == (302, f"{CHATS}{chat.pk}/change/")
    entry = AuditEntry.objects.get()
    assert {
        "staff": entry.staff,
        "kind": entry.kind,
        "content_type": entry.content_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "subject": entry.subject,
        "reason": entry.reason,
        "reference": entry.reference,
        "valid_for": entry.expires_at - entry.created_at,
    } == {
        "staff": moderator,
        "kind": AuditKind.CHAT_ACCESS,
        "content_type": ContentType.objects.get_for_model(Chat),
        "object_id": chat.pk,
        "object_repr": "Evening at the inn",
        "subject": chat.owner,
        "reason": REASON,
        "reference": "report 1207",
        "valid_for": timedelta(minutes=30),
    }
    assert entry.is_active() is True
    page = client.get(f"{CHATS}{chat.pk}/change/").content.decode()
    assert SECRET in page
    assert f"logged as audit entry #{entry.pk}" in page  # the success message
    assert f"under audit entry #{entry.pk}" in page  # the notice beside the text
    assert 'value="Request access"' not in page
    messages = client.get(MESSAGES, {"chat": chat.pk})
    assert messages.status_code == 200
    assert SECRET in messages.content.decode()


def test_another_moderator_still_has_no_access_to_that_chat(client, moderator, chat):
    _grant(moderator, chat)
    other = staff_with_role("moderator")
    client.force_login(other)

    page = client.get(f"{CHATS}{chat.pk}/change/")
    messages = client.get(MESSAGES, {"chat": chat.pk})

    assert SECRET not in page.content.decode()
    assert 'value="Request access"' in page.content.decode()
    assert (messages.status_code, messages["Location"]) == (302, f"{CHATS}{chat.pk}/change/#private-access")


def test_a_grant_opens_one_chat_only(client, moderator, chat):
    _grant(moderator, chat)
    other_chat = make_chat(chat.owner, title="Morning at the forge")
    message_append_user(chat=other_chat, content="Another private line.")
    client.force_login(moderator)

    page = client.get(f"{CHATS}{other_chat.pk}/change/").content.decode()
    crossed = client.get(MESSAGES, {"chat": chat.pk, "q": "Another private line"}).content.decode()

    assert "Another private line." not in page
    assert "Another private line." not in crossed


def test_the_grant_expires(client, moderator, chat):
    entry = _grant(moderator, chat)
    _expire(entry)
    entry.refresh_from_db()
    client.force_login(moderator)

    page = client.get(f"{CHATS}{chat.pk}/change/").content.decode()
    messages = client.get(MESSAGES, {"chat": chat.pk})

    assert entry.is_active() is False
    assert SECRET not in page
    assert 'value="Request access"' in page
    assert messages.status_code == 302
    assert AuditEntry.objects.count() == 1  # an expired grant stays in the log


@override_settings(PRIVATE_CONTENT_ACCESS_MINUTES=5)
def test_the_grant_lasts_the_configured_minutes(moderator, chat):
    entry = _grant(moderator, chat)

    assert entry.expires_at - entry.created_at == timedelta(minutes=5)


def test_a_superuser_is_not_exempt_and_is_logged_too(client, chat):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    before = client.get(f"{CHATS}{chat.pk}/change/").content.decode()
    client.post(f"{CHATS}{chat.pk}/access/", {"reason": REASON, "reference": "legal request LR-2026-17"})
    after = client.get(f"{CHATS}{chat.pk}/change/").content.decode()

    assert SECRET not in before
    assert 'value="Request access"' in before
    assert SECRET in after
    entry = AuditEntry.objects.get()
    assert (entry.staff, entry.reference) == (superuser, "legal request LR-2026-17")


def test_staff_without_a_role_cannot_request_access(client, chat):
    client.force_login(UserFactory(is_staff=True))

    response = client.post(f"{CHATS}{chat.pk}/access/", {"reason": REASON, "reference": "report 1207"})

    assert response.status_code == 403
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    "fields",
    [{"is_staff": False}, {"is_staff": True}, {"is_staff": True, "is_active": False}],
    ids=["not-staff", "staff-without-role", "deactivated-staff"],
)
def test_the_service_refuses_who_may_not_read_chats(chat, fields):
    user = UserFactory(**fields)

    with pytest.raises(PermissionDenied):
        _grant(user, chat)

    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("reason", "reference", "field"),
    [
        ("   ", "report 1207", "reason"),
        ("too short", "report 1207", "reason"),
        (REASON, " ", "reference"),
        (REASON, "r" * 101, "reference"),
    ],
    ids=["blank-reason", "short-reason", "blank-reference", "long-reference"],
)
def test_the_service_refuses_a_request_naming_the_field(moderator, chat, reason, reference, field):
    with pytest.raises(AccountError) as refused:
        _grant(moderator, chat, reason=reason, reference=reference)

    assert refused.value.field == field
    assert AuditEntry.objects.count() == 0


def test_a_deactivated_moderator_is_refused_by_the_service(chat):
    moderator = staff_with_role("moderator", is_active=False)

    with pytest.raises(PermissionDenied):
        _grant(moderator, chat)


# ---------------------------------------------------------------- query counts


def test_chat_list_queries_do_not_grow_with_chats(client, moderator, django_assert_num_queries):
    owner = UserFactory()
    for number in range(15):
        message_append_user(chat=make_chat(owner, title=f"Chat {number}"), content=f"text {number}")
    client.force_login(moderator)
    client.get(CHATS)  # warm the content-type cache

    # session, user, user and group permissions, the count, the chats with their
    # owners, their participants
    with django_assert_num_queries(7):
        response = client.get(CHATS)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 15


def test_chat_page_without_a_grant_runs_no_message_query(client, moderator, chat, django_assert_num_queries):
    client.force_login(moderator)
    client.get(f"{CHATS}{chat.pk}/change/")  # warm the content-type cache

    # session, user, user and group permissions, the grant (none), the chat with its
    # relations joined, its participants
    with django_assert_num_queries(7):
        response = client.get(f"{CHATS}{chat.pk}/change/")

    assert response.status_code == 200


# ---------------------------------------------------------------- the audit log


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def test_the_audit_log_cannot_be_added_to_changed_or_deleted_even_by_a_superuser(client, superuser, chat):
    entry = _grant(superuser, chat)
    client.force_login(superuser)

    add = client.get(f"{AUDIT}add/")
    change = client.post(f"{AUDIT}{entry.pk}/change/", {"reason": "Rewritten afterwards, nothing to see."})
    delete = client.post(f"{AUDIT}{entry.pk}/delete/", {"post": "yes"})
    bulk = client.post(AUDIT, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    page = client.get(f"{AUDIT}{entry.pk}/change/")
    listing = client.get(AUDIT).content.decode()

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert bulk.status_code == 200  # no action exists: the list again, nothing deleted
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert "delete_selected" not in listing
    assert f"{AUDIT}add/" not in listing
    entry.refresh_from_db()
    assert entry.reason == REASON
    assert AuditEntry.objects.count() == 1


def test_staff_read_the_audit_log_and_moderators_do_not(client, moderator, chat):
    _grant(moderator, chat)
    staff = staff_with_role("staff")

    client.force_login(moderator)
    refused = client.get(AUDIT)
    client.force_login(staff)
    listing = client.get(AUDIT)

    assert refused.status_code == 403
    assert listing.status_code == 200
    html = listing.content.decode()
    assert moderator.username in html
    assert f'<a href="{CHATS}{chat.pk}/change/">chat {chat.pk}: Evening at the inn</a>' in html
    assert "report 1207" in html
    assert SECRET not in html


def test_the_audit_log_filters_by_user_kind_and_date_and_searches(client, superuser, moderator, chat):
    _grant(moderator, chat, reference="report 1207")
    other = staff_with_role("moderator")
    _grant(other, chat, reference="legal request LR-9")
    client.force_login(superuser)

    def references(**params):
        return [entry.reference for entry in client.get(AUDIT, params).context["cl"].result_list]

    assert references() == ["legal request LR-9", "report 1207"]
    assert references(staff__id__exact=moderator.pk) == ["report 1207"]
    assert references(kind__exact="chat_access") == ["legal request LR-9", "report 1207"]
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert references(created_at__gte=str(today)) == ["legal request LR-9", "report 1207"]
    assert references(created_at__gte=str(today + timedelta(days=1))) == []
    assert references(q="LR-9") == ["legal request LR-9"]
    assert references(q=other.username) == ["legal request LR-9"]


def test_audit_log_queries_do_not_grow_with_entries(client, chat, django_assert_num_queries):
    for _ in range(12):
        _grant(staff_with_role("moderator"), chat)
    staff = staff_with_role("staff")
    client.force_login(staff)
    client.get(AUDIT)  # warm the content-type cache

    # session, user, user and group permissions, the staff filter's choices, the
    # count, the entries with staff, subject and content type joined
    with django_assert_num_queries(7):
        response = client.get(AUDIT)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 12
