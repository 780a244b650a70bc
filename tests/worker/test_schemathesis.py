"""The schemathesis suite (issue 11): `st run` against /api/openapi.json of the live stack (real daphne,
worker, Redis) with an owner's token, every check, at a bounded size: no server error, no response
the schema does not declare. ND_SCHEMATHESIS_EXAMPLES raises the size for a longer run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.stack import Stack, api, api_token, make_user

pytestmark = [pytest.mark.services, pytest.mark.timeout(900)]

BASE = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ND_SCHEMATHESIS_EXAMPLES", "8"))


def test_schemathesis_finds_no_server_error_and_no_schema_violation(stack: Stack, tmp_path: Path) -> None:
    owner = make_user("st-owner")
    token = api_token(owner)
    document = json.loads((BASE / "topology" / "examples" / "seed-1-direct.json").read_text())
    status, body = api(stack, "POST", "/api/labs", {"name": "fuzzed", "topology": document}, token=token)
    assert status == 201, body
    lab_id = body["id"]
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/apply", token=token)
    assert status == 202, body
    stack.wait_jobs_idle()
    assert api(stack, "GET", f"/api/labs/{lab_id}", token=token)[1]["deployment"]["state"] == "deployed"
    config = tmp_path / "schemathesis.toml"
    config.write_text((BASE / "tests" / "schemathesis.toml").read_text().replace("ND_ST_LAB_ID", str(lab_id)))
    argv = [
        str(BASE / ".venv" / "bin" / "st"), "--config-file", str(config),
        "run", f"{stack.url}/api/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--max-examples", str(EXAMPLES),
        "--seed", os.environ.get("ND_SCHEMATHESIS_SEED", "1"),
        "--workers", "1",
        "--generation-database", "none",
        "--request-timeout", "60",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--no-color",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=840)
    (tmp_path / "st-output.txt").write_text(proc.stdout + proc.stderr)
    if os.environ.get("ND_SCHEMATHESIS_LOG"):
        Path(os.environ["ND_SCHEMATHESIS_LOG"]).write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
