"""Labs: create, list, read, save the drawing, rename, delete, export."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Status

from ..selectors import lab_list_for
from ..services import labs as lab_services
from ..services.documents import document_parse
from ..services.errors import FieldError, Invalid
from ..services.operations import lab_current_document, lab_deployment
from ..services.permissions import lab_get_for
from .schemas import (
    ERRORS,
    Detail,
    Errors,
    LabCreated,
    LabDetail,
    LabIn,
    LabPatch,
    LabSummary,
    TopologyIn,
    VersionOut,
)
from .serialize import lab_detail, lab_summary

router = Router(tags=["labs"])


@router.post("", response={201: LabCreated, 422: Errors, **ERRORS}, summary="Create a lab (import a document)")
def lab_create(request: HttpRequest, payload: LabIn) -> Status[Any]:
    lab = lab_services.lab_create(
        user=request.auth,  # type: ignore[attr-defined]
        name=payload.name,
        topology=payload.topology,
        description=payload.description,
        team=lab_services.team_for_new_lab(user=request.auth, slug=payload.team),  # type: ignore[attr-defined]
    )
    return Status(201, {"id": lab.pk, "slug": lab.slug, "version": lab.version})


@router.get("", response={200: list[LabSummary], **ERRORS}, summary="The labs the caller may see")
def lab_list(request: HttpRequest) -> list[dict[str, Any]]:
    labs = lab_list_for(user=request.auth)  # type: ignore[attr-defined]
    return [lab_summary(lab, lab.role) for lab in labs]  # type: ignore[attr-defined]


@router.get("/{lab_id}", response={200: LabDetail, **ERRORS}, summary="A lab with its current document")
def lab_get(request: HttpRequest, lab_id: int) -> dict[str, Any]:
    lab, role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return lab_detail(lab, role, lab_current_document(lab=lab))


@router.patch("/{lab_id}", response={200: LabSummary, **ERRORS, 422: Errors}, summary="Rename or describe (editor)")
def lab_patch(request: HttpRequest, lab_id: int, payload: LabPatch) -> dict[str, Any]:
    lab, role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    lab_services.lab_update(lab=lab, user=request.auth, name=payload.name, description=payload.description)  # type: ignore[attr-defined]
    return lab_summary(lab, role)


@router.delete("/{lab_id}", response={204: None, 409: Detail, **ERRORS}, summary="Delete a lab (owner)")
def lab_delete(request: HttpRequest, lab_id: int) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    lab_services.lab_delete(lab=lab, user=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)


@router.put(
    "/{lab_id}/topology",
    response={200: VersionOut, 409: Detail, 422: Errors, **ERRORS},
    summary="Save the drawing as version n+1 (editor); 409 when `version` is not current",
)
def lab_topology_put(request: HttpRequest, lab_id: int, payload: TopologyIn) -> dict[str, Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    new = lab_services.lab_topology_save(
        lab=lab,
        user=request.auth,  # type: ignore[attr-defined]
        version=payload.version,
        topology=payload.topology,
        note=payload.note,
    )
    return {"version": new}


@router.get(
    "/{lab_id}/export",
    response={200: Any, 422: Errors, **ERRORS},
    summary="The current document (format=json) or a shell script that builds it by hand (format=sh)",
)
def lab_export(request: HttpRequest, lab_id: int, format: str = "json") -> HttpResponse:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    document = lab_current_document(lab=lab)
    if format == "json":
        response: HttpResponse = JsonResponse(document, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{lab.slug}.json"'
        return response
    if format == "sh":
        script = lab_export_shell(lab=lab, document=document)
        response = HttpResponse(script, content_type="text/x-shellscript; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{lab.slug}.sh"'
        return response
    if format == "clab":
        from ..engine.importers import export_clab

        response = HttpResponse(export_clab(document_parse(document)), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{lab.slug}.clab.yml"'
        return response
    raise Invalid([FieldError("format", "must be json, sh or clab")], detail="unknown export format")


def lab_export_shell(*, lab: Any, document: dict[str, Any]) -> str:
    """The engine's script, named with the deployment's tag (or a fresh one for a lab never deployed)."""
    from ..engine import api as engine
    from ..models import new_deployment_tag

    deployment = lab_deployment(lab=lab)
    tag = deployment.tag if deployment is not None else new_deployment_tag()
    return engine.export_shell(document_parse(document), tag)

