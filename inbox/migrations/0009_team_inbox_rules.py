# The team inbox's indexes, constraints, row-level security and the closed → resolved state.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from aerostic.core.rls import EnableRowLevelSecurity


def closed_is_resolved(apps, schema_editor):
    from aerostic.core.tenant_context import platform_context

    with platform_context("migration: conversation states"):
        apps.get_model("inbox", "Conversation").objects.filter(status="closed").update(status="resolved")


def resolved_is_closed(apps, schema_editor):
    from aerostic.core.tenant_context import platform_context

    with platform_context("migration: conversation states"):
        apps.get_model("inbox", "Conversation").objects.exclude(status="open").update(status="closed")


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0008_team_inbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["tenant", "-last_message_at", "-id"], name="conversation_tenant_last"),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["tenant", "status", "-last_message_at", "-id"], name="conversation_status_last"),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["tenant", "assignee", "status", "-last_message_at", "-id"], name="conversation_assignee_last"
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["tenant", "team", "status", "-last_message_at", "-id"], name="conversation_team_last"
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("status", "snoozed")),
                fields=["tenant", "snoozed_until"],
                name="conversation_snoozed",
            ),
        ),
        migrations.AddField(
            model_name="teammember",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="inbox.team"
            ),
        ),
        migrations.AddField(
            model_name="teammember",
            name="tenant",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="%(app_label)s_%(class)s_set",
                to="tenants.tenant",
            ),
        ),
        migrations.AddField(
            model_name="teammember",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="team",
            name="members",
            field=models.ManyToManyField(related_name="+", through="inbox.TeamMember", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name="agentstatus",
            constraint=models.UniqueConstraint(fields=("tenant", "user"), name="agent_status_once"),
        ),
        migrations.AddIndex(
            model_name="conversationevent",
            index=models.Index(fields=["conversation", "created_at"], name="conversation_event_created"),
        ),
        migrations.AddConstraint(
            model_name="inboxsettings",
            constraint=models.UniqueConstraint(fields=("tenant",), name="inbox_settings_once"),
        ),
        migrations.AddConstraint(
            model_name="label",
            constraint=models.UniqueConstraint(fields=("tenant", "name"), name="label_name_unique"),
        ),
        migrations.AddIndex(
            model_name="conversationlabel",
            index=models.Index(fields=["tenant", "label", "conversation"], name="conversation_label_by_label"),
        ),
        migrations.AddConstraint(
            model_name="conversationlabel",
            constraint=models.UniqueConstraint(fields=("conversation", "label"), name="conversation_label_once"),
        ),
        migrations.AddConstraint(
            model_name="mediafile",
            constraint=models.UniqueConstraint(fields=("tenant", "media_id"), name="media_file_once"),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(fields=["tenant", "user", "seen_at"], name="mention_unseen"),
        ),
        migrations.AddConstraint(
            model_name="mention",
            constraint=models.UniqueConstraint(fields=("event", "user"), name="mention_once"),
        ),
        migrations.AddConstraint(
            model_name="quickreply",
            constraint=models.UniqueConstraint(fields=("tenant", "shortcut"), name="quick_reply_shortcut_unique"),
        ),
        migrations.AddConstraint(
            model_name="teammember",
            constraint=models.UniqueConstraint(fields=("team", "user"), name="team_member_once"),
        ),
        migrations.AddConstraint(
            model_name="team",
            constraint=models.UniqueConstraint(fields=("tenant", "name"), name="team_name_unique"),
        ),
        *(
            EnableRowLevelSecurity(name)
            for name in (
                "team",
                "teammember",
                "agentstatus",
                "label",
                "conversationlabel",
                "conversationevent",
                "mention",
                "quickreply",
                "inboxsettings",
                "mediafile",
            )
        ),
        migrations.RunPython(closed_is_resolved, resolved_is_closed, elidable=False),
        migrations.RunSQL(
            "CREATE INDEX conversation_unread ON inbox_conversation (tenant_id, assignee_id)"
            " WHERE unread_count > 0 AND status <> 'resolved'",
            "DROP INDEX IF EXISTS conversation_unread",
        ),
    ]
