"""`make test`: the real embedded PostgreSQL and Redis, fast hashing, no throttling surprises."""

import copy
import os

from tavern.task_queues import celery_queue_settings

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, STORAGES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1000/min", "auth": "1000/min"},
}
ACCOUNT_RATE_LIMITS = False
CELERY_TASK_ALWAYS_EAGER = False
WHITENOISE_AUTOREFRESH = True
# Keep test traffic apart from a `make run` sharing the same embedded Redis.
# One namespace per test database, so concurrent runs sharing a Redis stay apart.
TEST_DATABASE_NAME = os.environ.get("TAVERN_TEST_DB", "test_tavern")
_TEST_PREFIX = TEST_DATABASE_NAME.replace("test_tavern", "tavern-test")
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": _TEST_PREFIX}}  # noqa: F405
# Every queue carries the prefix; the in-process worker (conftest) consumes them all.
_QUEUES = celery_queue_settings(prefix=_TEST_PREFIX)
CELERY_TASK_DEFAULT_QUEUE = _QUEUES["CELERY_TASK_DEFAULT_QUEUE"]
CELERY_TASK_QUEUES = _QUEUES["CELERY_TASK_QUEUES"]
CELERY_TASK_ROUTES = _QUEUES["CELERY_TASK_ROUTES"]
REDIS_KEY_PREFIX = _TEST_PREFIX
# The wire servers listen on 127.0.0.1; everything else local is refused, as in production.
# Tests that prove a refusal clear the list (tavern/tests/test_outbound_*.py).
OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
OFFLINE_TOKENS_PER_SECOND = env.int("OFFLINE_TOKENS_PER_SECOND", default=0)  # noqa: F405 - at once in tests
TOKEN_BATCH_SECONDS = env.float("TOKEN_BATCH_SECONDS", default=0.0)  # noqa: F405 - one event per token
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 - tests open and close as they go
# Tag this process's connections, so test teardown ends only its own stray ones.
DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = f"tavern-test-{os.getpid()}"  # noqa: F405
DATABASES["default"]["TEST"] = {"NAME": TEST_DATABASE_NAME}  # noqa: F405
# A second alias on the same test database (Django's test mirror), so the replica router can
# be tested; reads go there only in tests that turn DATABASE_READ_REPLICA on and declare
# both databases (tavern/tests/test_db_router.py). The rest of the suite reads the primary.
DATABASES["replica"] = {**copy.deepcopy(DATABASES["default"]), "TEST": {"MIRROR": "default"}}  # noqa: F405
DATABASE_READ_REPLICA = ""
