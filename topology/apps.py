from django.apps import AppConfig


class TopologyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "topology"
    verbose_name = "NetDesigner"

    def ready(self) -> None:
        from . import sharing

        sharing.connect()
