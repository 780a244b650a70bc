"""`manage.py contract [--write]`: the TypeScript of the browser contract (websocket events from
topology/contract.py, REST shapes from the OpenAPI schema) into frontend/src/generated/; without
--write, exit 1 when the committed files differ from what the server declares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ... import tsgen

OUT = Path(settings.BASE_DIR) / "frontend" / "src" / "generated"


def generated() -> dict[Path, str]:
    return {OUT / "events.ts": tsgen.events_ts(), OUT / "api.ts": tsgen.api_ts()}


class Command(BaseCommand):
    help = "Generate (--write) or check the TypeScript types of the websocket events and REST shapes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--write", action="store_true", help="write the files instead of checking them")

    def handle(self, *args: Any, **options: Any) -> None:
        stale = []
        for path, text in generated().items():
            if options["write"]:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {path.relative_to(settings.BASE_DIR)}")
            elif not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(settings.BASE_DIR)))
        if stale:
            raise CommandError(f"out of date: {', '.join(stale)}; run `python manage.py contract --write`")
