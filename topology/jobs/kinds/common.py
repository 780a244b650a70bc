"""What several kinds need: the version a job asks for, the lab's deployment on this host."""

from __future__ import annotations

from django.conf import settings

from ...choices import DeploymentState
from ...engine.model import Topology
from ...models import Deployment, TopologyVersion
from ..context import Context, JobFailed
from ..deployments import parse_version, version_for_reads


def requested_version(ctx: Context) -> TopologyVersion:
    """The version the job names (params["version"]), else the lab's current one."""
    job = ctx.job
    assert job.lab is not None
    number = job.params.get("version") or job.lab.version
    version = TopologyVersion.objects.filter(lab_id=ctx.lab, number=number).first()
    if version is None:
        raise JobFailed(f"the lab has no version {number}")
    return version


def check_host(deployment: Deployment) -> Deployment:
    """A lab's kernel work runs on its deployment's worker host: that kernel holds the namespaces."""
    if deployment.worker_host != settings.WORKER_HOST:
        raise JobFailed(
            f"the lab is deployed on worker host {deployment.worker_host!r}, not on {settings.WORKER_HOST!r}"
        )
    return deployment


def deployment_here(ctx: Context) -> Deployment:
    """The lab's deployment on this host, created (pending) when missing: for apply."""
    deployment, _ = Deployment.objects.select_related("version").get_or_create(
        lab_id=ctx.lab, defaults={"worker_host": settings.WORKER_HOST})
    return check_host(deployment)


def deployed(ctx: Context) -> Deployment:
    """The lab's deployment, which must hold something in the kernel: for reads."""
    found = Deployment.objects.filter(lab_id=ctx.lab).select_related("version").first()
    if found is None or found.state in (DeploymentState.DESTROYED, DeploymentState.PENDING):
        raise JobFailed("the lab is not deployed: apply it first")
    return check_host(found)


def deployed_topology(ctx: Context) -> tuple[Deployment, Topology]:
    """For reads: the version in the kernel (else the current one, e.g. after a failed first apply)."""
    deployment = deployed(ctx)
    version = version_for_reads(deployment, None) or requested_version(ctx)
    return deployment, parse_version(version)
