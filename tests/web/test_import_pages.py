"""The labs page's Import (pasted commands, files of each format) and the review page: each warning
beside its line, each fix a form that imports the corrected text again as the lab's next version."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from topology.models import Lab

from .conftest import World

FIXTURES = Path(settings.BASE_DIR) / "tests" / "importers" / "fixtures"
SLIP = "ip netns add red\nip netns add blue\nip link add veth-red type veth peer name veth-blue\n" \
       "ip link set veth-red netns red\nip link set veth-bleu netns blue\n"


def row(html: str, line: int) -> str:
    match = re.search(rf'<tr id="line-{line}".*?</tr>', html, re.S)
    assert match, f"no row for line {line}"
    return match.group(0)


def test_pasted_commands_show_the_warning_beside_its_line_and_the_fix_reimports(world: World) -> None:
    client = world.client("editor")
    answer = client.post("/labs/import/", {"text": SLIP, "format": "auto", "name": "pasted"})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "typo of &#x27;veth-blue&#x27;" in row(html, 5)
    assert "Warning on line" not in row(html, 4)
    made = Lab.objects.get(name="pasted")
    assert made.owner == world.users["editor"] and made.version == 1
    assert f'href="/labs/{made.pk}/"' in html  # open the drawing
    fixed_text = re.search(r'name="text" value="([^"]*)"', row(html, 5), re.S)
    assert fixed_text is not None
    again = client.post(f"/labs/{made.pk}/import/", {"text": fixed_text.group(1).replace("&#x27;", "'"),
                                                     "format": "sh", "name": "pasted"})
    assert again.status_code == 200
    made.refresh_from_db()
    assert made.version == 2
    assert "Warning on line" not in again.content.decode()
    links = made.versions.get(number=2).document["links"]
    assert {e["node"] for e in (links[0]["a"], links[0]["b"])} == {"red", "blue"}


def test_a_clean_import_opens_the_drawing(world: World) -> None:
    client = world.client("editor")
    text = SLIP.replace("veth-bleu", "veth-blue")
    answer = client.post("/labs/import/", {"text": text, "format": "auto"})
    made = Lab.objects.get(name="imported")
    assert answer.status_code == 302 and answer["Location"] == f"/labs/{made.pk}/"


def test_files_of_each_format(world: World) -> None:
    client = world.client("editor")
    clab = SimpleUploadedFile("hosts.clab.yml", (FIXTURES / "clab" / "bridge-hosts.clab.yml").read_bytes())
    answer = client.post("/labs/import/", {"file": clab, "format": "auto"})
    assert answer.status_code == 200 and "mgmt" in row(answer.content.decode(), 5)
    assert Lab.objects.filter(name="bridge-hosts").exists()
    sh = SimpleUploadedFile("tutorial.txt", (FIXTURES / "tutorial-slips.sh").read_bytes())
    answer = client.post("/labs/import/", {"file": sh, "format": "auto", "name": "tut"})
    html = answer.content.decode()
    assert answer.status_code == 200 and html.count('role="note"') == 6
    assert "Take every fix" in html


def test_refused_import_shows_problems_and_warnings(world: World) -> None:
    text = "ip netns add a\nip netns add b\nip link add x netns a type veth peer name y netns b\n" \
           "ip -n a addr add 10.0.0.1/24 dev x\nip -n b addr add 10.0.0.1/24 dev y\nfrobnicate"
    answer = world.client("editor").post("/labs/import/", {"text": text, "format": "sh", "name": "dup"})
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "Not imported" in html and "already used" in html and "frobnicate" in row(html, 6)
    assert not Lab.objects.filter(name="dup").exists()


def test_nothing_to_import_and_roles(world: World) -> None:
    client = world.client("editor")
    answer = client.post("/labs/import/", {"text": "  ", "format": "auto"}, follow=True)
    assert "choose a file or paste" in answer.content.decode()
    assert world.client("outsider").post(f"/labs/{world.lab.pk}/import/", {"text": SLIP}).status_code == 404
    answer = world.client("viewer").post(f"/labs/{world.lab.pk}/import/", {"text": SLIP}, follow=True)
    assert "Not imported" in answer.content.decode()
    world.lab.refresh_from_db()
    assert world.lab.version == 1
    assert world.client("anonymous").post("/labs/import/", {"text": SLIP}).status_code == 302


def test_labs_page_offers_the_import(world: Any) -> None:
    html = world.client("editor").get("/labs/").content.decode()
    assert 'action="/labs/import/"' in html and 'id="import-text"' in html and ".clab.yml" in html
