"""Rows to the JSON shapes of the API (plain dicts, so that the lab command can print the same)."""

from __future__ import annotations

from typing import Any

from ..choices import JobStatus
from ..models import Deployment, Job, Lab, LabMembership, TopologyVersion
from ..selectors import lab_deployment_or_none


def deployment_dict(deployment: Deployment | None) -> dict[str, Any] | None:
    if deployment is None:
        return None
    applied = deployment.version
    return {
        "id": deployment.pk,
        "tag": deployment.tag,
        "worker_host": deployment.worker_host,
        "state": deployment.state,
        "version": applied.number if applied is not None else None,
        "error": deployment.error,
        "updated": deployment.updated,
    }


def lab_summary(lab: Lab, role: str | None) -> dict[str, Any]:
    return {
        "id": lab.pk,
        "slug": lab.slug,
        "name": lab.name,
        "description": lab.description,
        "version": lab.version,
        "role": role,
        "owner": lab.owner.username,
        "team": lab.team.slug if lab.team is not None else None,
        "deployment": deployment_dict(lab_deployment_or_none(lab)),
        "updated": lab.updated,
        "template": lab.template_id,
        "template_version": lab.template_version,
    }


def lab_detail(lab: Lab, role: str | None, document: dict[str, Any]) -> dict[str, Any]:
    return {**lab_summary(lab, role), "topology": document}


def job_summary(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "lab": job.lab_id,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "created_by": job.created_by.username if job.created_by is not None else None,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
    }


def job_dict(job: Job) -> dict[str, Any]:
    finished = job.status in JobStatus.terminal()
    return {**job_summary(job), "log": job.log, "result": job.result if finished else None}


def member_dict(membership: LabMembership) -> dict[str, Any]:
    return {"username": membership.user.username, "role": membership.role}


def version_info(version: TopologyVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "author": version.author.username if version.author is not None else None,
        "note": version.note,
        "created": version.created,
    }
