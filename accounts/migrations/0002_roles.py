"""The moderator and staff roles as groups with their permissions.

Later apps add their own permissions to these groups in their own migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "moderator": [
        ("accounts", "view_user"),
        ("accounts", "change_user"),
        ("accounts", "view_apikey"),
    ],
    "staff": [
        ("accounts", "view_user"),
        ("accounts", "change_user"),
        ("accounts", "view_apikey"),
        ("accounts", "change_apikey"),
        ("auth", "view_group"),
        ("django_celery_beat", "view_periodictask"),
        ("django_celery_beat", "add_periodictask"),
        ("django_celery_beat", "change_periodictask"),
        ("django_celery_beat", "delete_periodictask"),
        ("django_celery_beat", "view_crontabschedule"),
        ("django_celery_beat", "add_crontabschedule"),
        ("django_celery_beat", "change_crontabschedule"),
        ("django_celery_beat", "view_intervalschedule"),
        ("django_celery_beat", "add_intervalschedule"),
        ("django_celery_beat", "change_intervalschedule"),
        ("django_celery_results", "view_taskresult"),
    ],
}


def create_roles(apps, schema_editor):
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


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("django_celery_results", "0014_alter_taskresult_status"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
