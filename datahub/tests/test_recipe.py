"""DataHub's own CLI, `datahub ingest -c recipe.yml`, loading our source by class path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import datahub_cli, proposals


def recipe(sandbox, sink: dict, **extra) -> dict:
    config = {
        "host_port": sandbox.url,
        "client_id": sandbox.client_id,
        "client_secret": "${SIGMA_CLIENT_SECRET}",
        "source_config": {"includeOwners": True},
        "connection_options": {"maxRetries": 1, "retryTimeout": 5},
    }
    config.update(extra)
    return {"source": {"type": "sigma_connector_datahub.source.SigmaSource", "config": config}, "sink": sink}


def datahub_ingest(tmp_path: Path, config: dict, secret: str) -> subprocess.CompletedProcess:
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(config))
    env = dict(os.environ, SIGMA_CLIENT_SECRET=secret)
    return subprocess.run(
        [datahub_cli(), "ingest", "-c", str(path)], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def test_datahub_ingest_runs_our_source_into_a_file(tmp_path: Path, sandbox) -> None:
    out = tmp_path / "from-recipe.json"
    proc = datahub_ingest(
        tmp_path, recipe(sandbox, {"type": "file", "config": {"filename": str(out)}}), sandbox.client_secret
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    mcps = proposals(out)
    urns = {m["entityUrn"] for m in mcps}
    assert any(u.startswith("urn:li:dashboard:(sigma,") for u in urns)
    assert any(u.startswith("urn:li:chart:(sigma,") for u in urns)
    assert sandbox.client_secret not in proc.stdout + proc.stderr


def test_datahub_ingest_sends_through_datahubs_rest_sink(tmp_path: Path, sandbox, gms) -> None:
    sink = {"type": "datahub-rest", "config": {"server": gms.url, "token": "standin-token"}}
    proc = datahub_ingest(tmp_path, recipe(sandbox, sink), sandbox.client_secret)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert gms.refused == []
    assert any(u.startswith("urn:li:dashboard:(sigma,") for u in gms.live())


def test_a_wrong_secret_fails_the_pipeline_in_words(tmp_path: Path, sandbox) -> None:
    out = tmp_path / "from-recipe.json"
    proc = datahub_ingest(tmp_path, recipe(sandbox, {"type": "file", "config": {"filename": str(out)}}), "wrong-secret")
    assert proc.returncode != 0
    assert "sigma-connector could not run" in proc.stdout + proc.stderr
    assert "wrong-secret" not in proc.stdout + proc.stderr


def test_test_connection_reports_each_step_and_a_wrong_secret(sandbox) -> None:
    from sigma_connector_datahub.source import SigmaSource

    config = {"host_port": sandbox.url, "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    good = SigmaSource.test_connection(config)
    assert good.basic_connectivity is not None and good.basic_connectivity.capable, good
    assert good.capability_report and good.capability_report["GetToken"].capable
    bad = SigmaSource.test_connection({**config, "client_secret": "wrong-secret-0042"})
    assert bad.basic_connectivity is not None and not bad.basic_connectivity.capable
    assert "wrong-secret-0042" not in str(bad.basic_connectivity.failure_reason)
