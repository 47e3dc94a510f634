"""The settings the test suite runs with: the project's own, plus what only tests may have."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# WhiteNoise serves from STATIC_ROOT, which `collectstatic` fills in a deployment.
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405
