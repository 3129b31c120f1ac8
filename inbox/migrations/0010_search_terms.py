# The inbox search's index: keyed hashes of message words and customer-name prefixes
# (inbox.search_terms), under row-level security like every tenant table.

import django.db.models.deletion
from django.db import migrations, models

from aerostic.core.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0009_team_inbox_rules'),
        ('tenants', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchTerm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('term', models.BigIntegerField()),
                ('seen_at', models.DateTimeField()),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.conversation')),
                ('tenant', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='%(app_label)s_%(class)s_set', to='tenants.tenant')),
            ],
            options={
                'indexes': [models.Index(fields=['tenant', 'term'], name='search_term_by_term')],
                'constraints': [models.UniqueConstraint(fields=('conversation', 'term'), name='search_term_once')],
            },
        ),
        EnableRowLevelSecurity("searchterm"),
    ]
