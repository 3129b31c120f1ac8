"""Test settings: the real settings plus test-only models and a fast password hasher."""

from aerostic.settings import *  # noqa: F403
from aerostic.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "aerostic.testsupport"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Live-server threads must not keep connections past their request: the test database is dropped
# at the end and Postgres refuses while anyone is still connected.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
