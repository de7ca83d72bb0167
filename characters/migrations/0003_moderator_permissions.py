"""Back-office permissions on characters for the moderator and staff roles."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

_MODERATE = [
    ("characters", "view_character"),
    ("characters", "change_character"),
    ("characters", "view_lorebook"),
    ("characters", "change_lorebook"),
    ("characters", "view_lorebookentry"),
    ("characters", "change_lorebookentry"),
    ("characters", "view_tag"),
    ("characters", "change_tag"),
    ("characters", "view_category"),
    ("characters", "change_category"),
    ("characters", "view_characterversion"),
    ("characters", "view_persona"),
]

ROLE_PERMISSIONS = {
    "moderator": _MODERATE,
    "staff": [
        *_MODERATE,
        ("characters", "add_tag"),
        ("characters", "delete_tag"),
        ("characters", "add_category"),
        ("characters", "delete_category"),
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
                content_type__app_label="characters", codename__in=[codename for _, codename in codenames]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("characters", "0002_search_indexes"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
