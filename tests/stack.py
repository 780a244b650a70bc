"""Fixtures that start the real stack for integration and browser tests (owned by the worker/stream work).

Planned fixtures: `redis_url` (from REDIS_URL), `celery_worker` (a real `manage.py worker` subprocess
against the test database), `live_server_url` (a real daphne subprocess). Tests using them need
`transactional_db` so rows are committed where the subprocesses can see them.
"""
