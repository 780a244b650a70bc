"""The Celery application. JSON only: a worker runs as root, so it never unpickles anything."""

import os

from celery import Celery

from .broker import install as _guard_broker

_guard_broker()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netdesigner.settings")

app = Celery("netdesigner")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
