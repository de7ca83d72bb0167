"""The staff role reads the audit log; moderators, whose access it records, do not.

Nobody gets add, change or delete on it: the admin refuses them to superusers too,
and entries are written only by `accounts.services.audit_entry_create`."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {"staff": [("accounts", "view_auditentry")]}


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
                content_type__app_label="accounts", codename__in=[codename for _, codename in codenames]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_audit_entry"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
