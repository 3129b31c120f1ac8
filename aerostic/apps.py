"""The project frame as an installed app, so it can hold frame-level management commands (seed_demo).

Label "frame" (not "aerostic", and apart from aerostic.core's "core"): it has no models.
"""

from django.apps import AppConfig


class FrameConfig(AppConfig):
    name = "aerostic"
    label = "frame"
    verbose_name = "Project frame"
