"""Who may do what on a lab: list (viewer), set and remove (owner)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ..services import members as member_services
from ..services.permissions import lab_get_for
from .schemas import ERRORS, Errors, MemberIn, MemberOut, RoleIn
from .serialize import member_dict

router = Router(tags=["members"])


@router.get("/{lab_id}/members", response={200: list[MemberOut], **ERRORS}, summary="The lab's members")
def member_list(request: HttpRequest, lab_id: int) -> list[dict[str, Any]]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    owner = {"username": lab.owner.username, "role": "owner"}
    return [owner, *(member_dict(m) for m in member_services.member_list(lab=lab))]


@router.post(
    "/{lab_id}/members",
    response={201: MemberOut, 422: Errors, **ERRORS},
    summary="Give a user a role on the lab (owner)",
)
def member_add(request: HttpRequest, lab_id: int, payload: MemberIn) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    membership = member_services.member_set(
        lab=lab, user=request.auth, username=payload.username, role=payload.role  # type: ignore[attr-defined]
    )
    return Status(201, member_dict(membership))


@router.put(
    "/{lab_id}/members/{username}",
    response={200: MemberOut, 422: Errors, **ERRORS},
    summary="Change a member's role (owner)",
)
def member_change(request: HttpRequest, lab_id: int, username: str, payload: RoleIn) -> dict[str, Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    membership = member_services.member_set(
        lab=lab, user=request.auth, username=username, role=payload.role  # type: ignore[attr-defined]
    )
    return member_dict(membership)


@router.delete("/{lab_id}/members/{username}", response={204: None, **ERRORS}, summary="Remove a member (owner)")
def member_remove(request: HttpRequest, lab_id: int, username: str) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    member_services.member_remove(lab=lab, user=request.auth, username=username)  # type: ignore[attr-defined]
    return Status(204, None)
