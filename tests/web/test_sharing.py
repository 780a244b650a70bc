"""Sharing: every membership change (service, admin, team) tells the lab's open pages the user's new
effective role once committed; team labs can be made from the labs page."""

from __future__ import annotations

from typing import Any

import pytest

from topology import events
from topology.choices import Role
from topology.models import Lab, LabMembership, Team, TeamMembership
from topology.services.members import member_remove, member_set

from .conftest import World, make_user


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, dict[str, Any]]]:
    sent: list[tuple[int, dict[str, Any]]] = []
    monkeypatch.setattr(events, "publish", lambda lab_id, event: sent.append((lab_id, event)))
    monkeypatch.setattr(events, "access_changed", lambda lab_id: sent.append((lab_id, {"type": "lab.access"})))
    return sent


def test_member_changes_publish_the_effective_role(
    world: World, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    lab, owner = world.lab, world.users["owner"]
    with django_capture_on_commit_callbacks(execute=True):
        member_set(lab=lab, user=owner, username="outsider", role=Role.EDITOR)
    assert (lab.pk, {"type": "role.changed", "user": "outsider", "role": "editor"}) in published
    assert published[-1] == (lab.pk, {"type": "lab.access"})  # after the event: sockets re-check
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        member_remove(lab=lab, user=owner, username="outsider")
    assert (lab.pk, {"type": "role.changed", "user": "outsider", "role": None}) in published
    # The operator keeps their team role (viewer) when their lab role goes: that is what they hear.
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        member_remove(lab=lab, user=owner, username="operator")
    assert (lab.pk, {"type": "role.changed", "user": "operator", "role": "viewer"}) in published


def test_nothing_is_published_before_commit(world: World, published: list[Any],
                                            django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        LabMembership.objects.create(lab=world.lab, user=world.users["outsider"], role=Role.VIEWER)
    assert published == [] and callbacks


def test_team_role_change_reaches_every_lab_of_the_team(
    world: World, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    team = world.lab.team
    other = Lab.objects.create(name="Other", slug="other", owner=world.users["owner"], team=team, version=0)
    with django_capture_on_commit_callbacks(execute=True):
        TeamMembership.objects.filter(team=team, user=world.users["editor"]).update(role=Role.VIEWER)
        membership = TeamMembership.objects.get(team=team, user=world.users["editor"])
        membership.save()  # the admin saves the row: the signal fires
    events_seen = {(lab_id, e.get("role")) for lab_id, e in published if e["type"] == "role.changed"}
    assert events_seen == {(world.lab.pk, "viewer"), (other.pk, "viewer")}


def test_labs_page_offers_teams_and_creates_team_labs(world: World) -> None:
    client = world.client("editor")  # editor of Team A
    Team.objects.create(name="Not mine", slug="not-mine")
    page = client.get("/labs/")
    assert b'<option value="team-a">Team A</option>' in page.content
    assert b"not-mine" not in page.content
    client.post("/labs/", {"action": "create", "name": "Team work", "team": "team-a"})
    assert Lab.objects.get(name="Team work").team == world.lab.team
    # A team the user may not add to is refused with a message, and no lab is made.
    response = client.post("/labs/", {"action": "create", "name": "Sneaky", "team": "not-mine"}, follow=True)
    assert b"no team" in response.content and not Lab.objects.filter(name="Sneaky").exists()
    # A viewer of the team is not offered it.
    viewer_of_team = make_user("teamviewer")
    TeamMembership.objects.create(team=Team.objects.get(slug="team-a"), user=viewer_of_team, role=Role.VIEWER)
    client.force_login(viewer_of_team)
    assert b'value="team-a"' not in client.get("/labs/").content
