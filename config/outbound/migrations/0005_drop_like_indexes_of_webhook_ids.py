from django.db import migrations

# On PostgreSQL Django gives every indexed varchar column a second, `varchar_pattern_ops` index
# for LIKE 'prefix%'. Webhook ids are only ever matched exactly (the admin's search included),
# so those indexes only cost an entry on every event queued (each answer) and attempt recorded.
# `IF EXISTS`: SQLite has no such index, and the statement is a no-op there.
LIKE_INDEXES = ("outbound_webhookevent_id_cfa0bb79_like", "outbound_deliveryattempt_event_id_be4c7078_like")


class Migration(migrations.Migration):
    dependencies = [("outbound", "0004_drop_fk_indexes_covered_by_composites")]

    operations = [
        migrations.RunSQL(f"DROP INDEX IF EXISTS {name}", reverse_sql=migrations.RunSQL.noop)
        for name in LIKE_INDEXES
    ]
