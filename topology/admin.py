"""The admin site as an inspection tool: every row browsable, a lab's history and jobs at a glance,
and a deployment's live kernel state (read through the worker) next to its design.

Actions (re-apply, destroy, clean up orphans) go through the same services as the API.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join

from .models import (
    ApiToken,
    AuditEvent,
    Deployment,
    Job,
    Lab,
    LabMembership,
    Team,
    TeamMembership,
    TopologyVersion,
)
from .selectors import lab_deployment_or_none
from .services.deletion import lab_delete_request, lab_needs_destroy
from .services.errors import ServiceError
from .services.inspection import deployment_inspect
from .services.operations import cleanup_request, lab_apply_request, lab_destroy_request
from .throttle import ThrottledAdminAuthenticationForm

admin.site.login_form = ThrottledAdminAuthenticationForm  # login throttling with a clear message

RECENT_JOBS = 15


def pretty_json(value: Any) -> str:
    return format_html("<pre style='white-space:pre-wrap;max-height:30em;overflow:auto'>{}</pre>",
                       json.dumps(value, indent=2, default=str))


def _run_for_labs(request: HttpRequest, labs: list[Lab], what: str, service: Any) -> None:
    started = []
    for lab in labs:
        try:
            started.append(f"{lab.slug} (job {service(lab=lab, user=request.user).pk})")
        except ServiceError as exc:
            messages.error(request, f"{lab.slug}: {exc.detail}")
    if started:
        messages.success(request, f"{what} queued: {', '.join(started)}")


class TeamMembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "created"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMembershipInline]


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["team", "user", "role"]
    list_filter = ["role", "team"]
    search_fields = ["team__name", "user__username"]
    autocomplete_fields = ["user", "team"]


class LabMembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LabMembership
    extra = 0
    autocomplete_fields = ["user"]


class TopologyVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TopologyVersion
    extra = 0
    fields = ["number", "author", "note", "created"]
    readonly_fields = ["number", "author", "note", "created"]
    can_delete = False
    show_change_link = True
    ordering = ["-number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeploymentInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Deployment
    extra = 0
    fields = ["tag", "worker_host", "state", "version", "error", "updated"]
    readonly_fields = ["tag", "worker_host", "state", "version", "error", "updated"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description="Re-apply the current version")
def reapply_labs(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Lab]) -> None:
    _run_for_labs(request, list(queryset), "Apply", lab_apply_request)


@admin.action(description="Destroy (remove from the kernel)")
def destroy_labs(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Lab]) -> None:
    _run_for_labs(request, list(queryset), "Destroy", lab_destroy_request)


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["slug", "name", "owner", "team", "version", "deployment_state", "updated"]
    list_filter = ["team", "deployment__state", "created"]
    search_fields = ["name", "slug", "owner__username", "description"]
    list_select_related = ["owner", "team", "deployment"]
    readonly_fields = ["version", "created", "updated", "recent_jobs", "template", "template_version"]
    autocomplete_fields = ["owner", "team"]
    inlines = [LabMembershipInline, DeploymentInline, TopologyVersionInline]
    actions = [reapply_labs, destroy_labs]

    # Deleting a lab destroys it first (services.deletion): a deployed lab is handed to a delete job and
    # disappears once its namespaces are gone; the admin says so instead of "deleted successfully".
    def delete_model(self, request: HttpRequest, obj: Lab) -> None:
        job = lab_delete_request(lab=obj, user=request.user)
        if job is not None:
            messages.warning(request, f"{obj.slug} is in the kernel: destroying it first (job {job.pk}); "
                                      "it is deleted once the destroy succeeded.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Lab]) -> None:
        for lab in list(queryset):
            self.delete_model(request, lab)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> HttpResponse:
        if Lab.objects.filter(pk=obj_id).exists():  # deferred: the delete job removes it
            from django.shortcuts import redirect

            return redirect("admin:topology_lab_changelist")
        return super().response_delete(request, obj_display, obj_id)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        lab = Lab.objects.filter(pk=object_id).first()
        if request.method == "GET" and lab is not None and lab_needs_destroy(lab=lab):
            messages.warning(request, "This lab is in the kernel: deleting it destroys its namespaces first "
                                      "(through the worker), then deletes it.")
        return super().delete_view(request, object_id, extra_context)

    @admin.display(description="deployment", ordering="deployment__state")
    def deployment_state(self, lab: Lab) -> str:
        deployment = lab_deployment_or_none(lab)
        return deployment.state if deployment else "—"

    @admin.display(description="recent jobs")
    def recent_jobs(self, lab: Lab) -> str:
        if lab.pk is None:
            return "—"
        jobs = Job.objects.filter(lab=lab).select_related("created_by").order_by("-created")[:RECENT_JOBS]
        if not jobs:
            return "no jobs yet"
        rows = format_html_join(
            "", "<tr><td><a href='../../../job/{}/change/'>{}</a></td><td>{}</td><td>{}</td><td>{}/{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            ((j.pk, j.pk, j.kind, j.status, j.done, j.total, j.created_by or "—", j.error[:80]) for j in jobs),
        )
        return format_html("<table><tr><th>job</th><th>kind</th><th>status</th><th>progress</th><th>by</th>"
                           "<th>error</th></tr>{}</table>", rows)


@admin.register(LabMembership)
class LabMembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["lab", "user", "role"]
    list_filter = ["role"]
    search_fields = ["lab__slug", "lab__name", "user__username"]
    autocomplete_fields = ["lab", "user"]


@admin.register(TopologyVersion)
class TopologyVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["lab", "number", "author", "note", "created"]
    list_filter = ["created"]
    search_fields = ["lab__slug", "lab__name", "note", "author__username"]
    list_select_related = ["lab", "author"]
    fields = ["lab", "number", "author", "note", "created", "document_pretty"]
    readonly_fields = ["lab", "number", "author", "note", "created", "document_pretty"]

    @admin.display(description="document")
    def document_pretty(self, version: TopologyVersion) -> str:
        return pretty_json(version.document)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions are made by saving a lab, never by hand


@admin.action(description="Re-apply the lab's current version")
def reapply_deployments(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
    _run_for_labs(request, [d.lab for d in queryset.select_related("lab")], "Apply", lab_apply_request)


@admin.action(description="Destroy (remove from the kernel)")
def destroy_deployments(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
    _run_for_labs(request, [d.lab for d in queryset.select_related("lab")], "Destroy", lab_destroy_request)


@admin.action(description="Clean up orphaned namespaces on this worker host (ignores the selection)")
def cleanup_orphans(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Deployment]) -> None:
    job = cleanup_request(user=request.user)
    messages.success(request, f"Clean-up queued as job {job.pk}.")


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["lab", "tag", "worker_host", "state", "applied_version", "updated"]
    list_filter = ["state", "worker_host"]
    search_fields = ["tag", "lab__slug", "lab__name", "worker_host"]
    list_select_related = ["lab", "version"]
    readonly_fields = ["lab", "tag", "version", "created", "updated"]
    fields = ["lab", "tag", "worker_host", "state", "version", "error", "created", "updated"]
    actions = [reapply_deployments, destroy_deployments, cleanup_orphans]
    change_form_template = "admin/topology/deployment/change_form.html"

    @admin.display(description="applied version", ordering="version__number")
    def applied_version(self, deployment: Deployment) -> str:
        return str(deployment.version.number) if deployment.version else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # deployments are made by applying a lab

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = dict(extra_context or {})
        deployment = Deployment.objects.select_related("lab").filter(pk=object_id).first()
        if deployment is not None and request.method == "GET" and request.GET.get("inspect", "1") != "0":
            context["inspection"] = deployment_inspect(deployment=deployment, user=request.user)
        return super().change_view(request, object_id, form_url, extra_context=context)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "kind", "status", "lab", "progress", "worker_host", "created_by", "created", "finished"]
    list_filter = ["kind", "status", "worker_host", "created"]
    search_fields = ["lab__slug", "error", "created_by__username"]
    list_select_related = ["lab", "created_by"]
    fields = ["lab", "kind", "status", "params", "done", "total", "error", "worker_host", "created_by",
              "created", "started", "finished", "log_pretty", "result_pretty"]
    readonly_fields = ["lab", "kind", "status", "params", "done", "total", "error", "worker_host", "created_by",
                       "created", "started", "finished", "log_pretty", "result_pretty"]

    @admin.display(description="progress")
    def progress(self, job: Job) -> str:
        return f"{job.done}/{job.total}"

    @admin.display(description="log")
    def log_pretty(self, job: Job) -> str:
        lines = [(line.get("at", ""), line.get("message", "")) if isinstance(line, dict) else ("", line)
                 for line in job.log or []]
        return format_html("<pre style='max-height:30em;overflow:auto'>{}</pre>",
                           format_html_join("\n", "{} {}", lines))

    @admin.display(description="result")
    def result_pretty(self, job: Job) -> str:
        return pretty_json(job.result)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created", "user", "action", "lab"]
    list_filter = ["action", "created"]
    search_fields = ["action", "user__username", "lab__slug"]
    list_select_related = ["user", "lab"]
    readonly_fields = ["created", "user", "action", "lab", "detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "key_prefix", "created", "expires"]
    search_fields = ["user__username", "prefix"]
    list_filter = ["created", "expires"]
    readonly_fields = ["prefix", "created"]
    exclude = ["digest"]
    autocomplete_fields = ["user"]

    @admin.display(description="key")
    def key_prefix(self, token: ApiToken) -> str:
        return f"{token.prefix}…"
