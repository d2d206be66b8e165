"""The datahub-file sink's output on the sandbox's 2026 org, judged by DataHub itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ORG_2026, datahub_cli, ingest, proposals, start_sandbox, stop, workflow
from gms_standin import strict_check


def test_datahub_check_metadata_file_accepts_every_proposal_of_the_2026_org(tmp_path: Path) -> None:
    sandbox = start_sandbox(*ORG_2026)
    try:
        out = tmp_path / "mcps.json"
        run = ingest(tmp_path, workflow(sandbox, {"type": "datahub-file", "config": {"filename": str(out)}}))
    finally:
        stop(sandbox.process)
    assert run.returncode == 0, run.output
    mcps = proposals(out)
    assert len(mcps) > 1000
    check = subprocess.run(
        [datahub_cli(), "check", "metadata-file", str(out)], capture_output=True, text=True, timeout=600, check=False
    )
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    assert f"{len(mcps)} MCEs found - all valid" in check.stdout + check.stderr
    # And stricter than the CLI: no field DataHub's models do not have.
    for mcp in mcps:
        strict_check(mcp)
    kinds = {m["entityType"] for m in mcps}
    assert {"dashboard", "chart", "dataset", "container"} <= kinds
    aspects = {m["aspectName"] for m in mcps}
    assert {"upstreamLineage", "inputFields", "ownership", "globalTags", "schemaMetadata", "deprecation"} <= aspects
    reports = [
        m for m in mcps if m["aspectName"] == "subTypes" and m["aspect"]["json"]["typeNames"] == ["Sigma Report"]
    ]
    assert len(reports) == 15


def test_a_failed_run_keeps_the_previous_file(tmp_path: Path, sandbox) -> None:
    out = tmp_path / "mcps.json"
    out.write_text("previous")
    config = workflow(sandbox, {"type": "datahub-file", "config": {"filename": str(out)}})
    config["source"]["serviceConnection"]["config"]["clientSecret"] = "wrong"
    run = ingest(tmp_path, config)
    assert run.returncode != 0
    assert out.read_text() == "previous"
