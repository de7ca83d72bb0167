import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_role_groups_exist_with_their_permissions():
    moderator = Group.objects.get(name="moderator")
    staff = Group.objects.get(name="staff")

    assert set(
        moderator.permissions.filter(content_type__app_label="accounts").values_list("codename", flat=True)
    ) == {
        "view_user",
        "change_user",
        "view_apikey",
    }
    assert "change_periodictask" in set(staff.permissions.values_list("codename", flat=True))


def test_staff_read_the_audit_log_and_nobody_writes_it():
    def audit_codenames(role):
        return set(
            Group.objects.get(name=role)
            .permissions.filter(content_type__model="auditentry")
            .values_list("codename", flat=True)
        )

    assert audit_codenames("staff") == {"view_auditentry"}
    assert audit_codenames("moderator") == set()


@override_settings(DEBUG=False)
def test_seed_demo_is_idempotent_and_creates_no_admin_outside_debug():
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)

    demo = User.objects.get(username="demo")
    assert demo.check_password("tavern-demo")
    assert demo.emailaddress_set.get().verified is True
    assert User.objects.filter(username="admin").exists() is False


@override_settings(DEBUG=True)
def test_seed_demo_creates_the_admin_in_debug():
    call_command("seed_demo", stdout=None)

    admin = User.objects.get(username="admin")
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert admin.check_password("tavern-admin")


def test_moderator_can_ban_from_admin(client):
    from accounts.tests.factories import UserFactory

    moderator = UserFactory(is_staff=True)
    moderator.groups.add(Group.objects.get(name="moderator"))
    target = UserFactory()
    client.force_login(moderator)

    response = client.post("/admin/accounts/user/", {"action": "ban_users", "_selected_action": [target.pk]})

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active is False
