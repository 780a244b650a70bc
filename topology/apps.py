from django.apps import AppConfig


class TopologyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "topology"
    verbose_name = "NetDesigner"

    def ready(self) -> None:
        from . import captures  # noqa: F401 - connects the signal that deletes a capture's files with its job

        # every process that may apply (the worker, `lab apply --inline`) gets the open-files limit a
        # 2,000-namespace apply needs (engine/limits.py)
        from .engine.limits import raise_open_files_limit

        raise_open_files_limit()
        from . import sharing

        sharing.connect()
