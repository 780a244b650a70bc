"""The REST API (django-ninja). Owned by the web-application work."""

from ninja import NinjaAPI

api = NinjaAPI(title="NetDesigner API", version="1", urls_namespace="api")
