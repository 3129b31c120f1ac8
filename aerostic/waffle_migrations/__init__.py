"""django-waffle's migrations for this project (settings.MIGRATION_MODULES["waffle"]).

waffle's own create its default flag table even when WAFFLE_FLAG_MODEL swaps it (waffle issues
#317, #338, pull request #576): that unused table's foreign key to users stops Django's flush.
These were made by `makemigrations waffle` against waffle 5.0's models, so the swapped flag model
is created only where it is not swapped; switches and samples are waffle's own. Regenerate on a
waffle upgrade that changes its models.
"""
