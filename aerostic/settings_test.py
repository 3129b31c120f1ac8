"""Test settings: the real settings plus test-only models and a fast password hasher."""

from aerostic.settings import *  # noqa: F403
from aerostic.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "aerostic.testsupport"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
