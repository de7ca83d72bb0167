"""Back-office permissions on chats for the moderator and staff roles.

Moderators read chats, messages and swipes (reports, abuse); staff also define
shared model connections, read users' connections (never their keys), presets
and usage."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

_MODERATE = [
    ("chats", "view_chat"),
    ("chats", "view_message"),
    ("chats", "view_swipe"),
]

ROLE_PERMISSIONS = {
    "moderator": _MODERATE,
    "staff": [
        *_MODERATE,
        ("chats", "view_modelconnection"),
        ("chats", "add_modelconnection"),
        ("chats", "change_modelconnection"),
        ("chats", "delete_modelconnection"),
        ("chats", "view_preset"),
        ("chats", "view_usagerecord"),
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally made after migrate; make them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codename in codenames:
            permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="chats", codename__in=[codename for _, codename in codenames]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0002_memory_index"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
