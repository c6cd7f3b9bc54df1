"""The six role groups, the administrator's admin-site permissions, and an append-only access log."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ["intake", "attorney", "supervisor", "finance", "auditor", "admin"]

# What the Django admin shows an administrator: read staff and the access log, unlock
# throttled sign-ins (axes), and manage periodic tasks.
ADMIN_PERMISSIONS = [
    ("accounts", "view_user"),
    ("accounts", "view_accessevent"),
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accessfailurelog"),
    ("django_celery_beat", "view_periodictask"),
    ("django_celery_beat", "change_periodictask"),
    ("django_celery_beat", "view_crontabschedule"),
    ("django_celery_beat", "view_intervalschedule"),
]


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    admin = Group.objects.get(name="admin")
    for app_label, codename in ADMIN_PERMISSIONS:
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:
            admin.permissions.add(permission)


# Each vendor: (statements to create, statements to drop). SQLite trigger bodies contain
# semicolons, so statements are listed one by one rather than split from a script.
SQL = {
    "postgresql": (
        [
            """
            CREATE FUNCTION accounts_accessevent_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'the access log is append-only';
            END;
            $$ LANGUAGE plpgsql
            """,
            """
            CREATE TRIGGER accounts_accessevent_append_only
                BEFORE UPDATE OR DELETE ON accounts_accessevent
                FOR EACH ROW EXECUTE FUNCTION accounts_accessevent_append_only()
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS accounts_accessevent_append_only ON accounts_accessevent",
            "DROP FUNCTION IF EXISTS accounts_accessevent_append_only()",
        ],
    ),
    "sqlite": (
        [
            """
            CREATE TRIGGER accounts_accessevent_no_update BEFORE UPDATE ON accounts_accessevent
            BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END
            """,
            """
            CREATE TRIGGER accounts_accessevent_no_delete BEFORE DELETE ON accounts_accessevent
            BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS accounts_accessevent_no_update",
            "DROP TRIGGER IF EXISTS accounts_accessevent_no_delete",
        ],
    ),
}


def _triggers(index):
    def run(apps, schema_editor):
        for statement in SQL.get(schema_editor.connection.vendor, ([], []))[index]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("axes", "0010_accessattemptexpiration"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(_triggers(0), _triggers(1)),
    ]
