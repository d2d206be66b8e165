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


MARKETING = "a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02"
REVENUE = "a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01"


def test_a_recipe_of_datahubs_own_sigma_source_runs_with_only_its_type_changed(tmp_path: Path, sandbox) -> None:
    """The keys of DataHub's Sigma source (validated by its own config class first) mean what
    they mean there: api_url, patterns, owners, extract_lineage, stateful_ingestion with a
    pipeline_name; what is done differently is one warning each."""
    from datahub.ingestion.source.sigma.config import SigmaSourceConfig

    config = {
        "api_url": f"{sandbox.url}/v2",
        "client_id": sandbox.client_id,
        "client_secret": "${SIGMA_CLIENT_SECRET}",
        "workbook_pattern": {"allow": [".*"], "deny": ["Marketing"]},
        "ingest_owner": True,
        "extract_lineage": False,
        "chart_sources_platform_mapping": {"Finance": {"data_source_platform": "snowflake"}},
        "connection_to_platform_map": {"conn-1": {"env": "PROD", "default_database": "analytics"}},
        "stateful_ingestion": {"enabled": True, "remove_stale_metadata": True},
    }
    SigmaSourceConfig.model_validate({**config, "client_secret": "x"})
    state_dir = tmp_path / "state"
    out = tmp_path / "first.json"

    def run(source_config: dict, output: Path) -> subprocess.CompletedProcess:
        recipe = {
            "pipeline_name": "sigma-prod",
            "source": {"type": "sigma_connector_datahub.source.SigmaSource", "config": source_config},
            "sink": {"type": "file", "config": {"filename": str(output)}},
        }
        path = tmp_path / "recipe.json"
        path.write_text(json.dumps(recipe))
        env = dict(os.environ, SIGMA_CLIENT_SECRET=sandbox.client_secret, SIGMA_CONNECTOR_STATE_DIR=str(state_dir))
        return subprocess.run(
            [datahub_cli(), "ingest", "-c", str(path)], capture_output=True, text=True, env=env, timeout=600, check=False
        )

    proc = run(config, out)
    logs = proc.stdout + proc.stderr
    assert proc.returncode == 0, logs[-3000:]
    mcps = proposals(out)
    dashboards = {m["entityUrn"] for m in mcps if m["entityUrn"].startswith("urn:li:dashboard:(sigma,")}
    assert f"urn:li:dashboard:(sigma,{REVENUE})" in dashboards
    assert f"urn:li:dashboard:(sigma,{MARKETING})" not in dashboards, "workbook_pattern.deny"
    assert any(m["aspectName"] == "ownership" for m in mcps), "ingest_owner"
    assert not [m for m in mcps if m["aspectName"] in ("upstreamLineage", "inputFields")], "extract_lineage: false"
    assert all(not m["aspect"]["json"].get("inputs") for m in mcps if m["aspectName"] == "chartInfo")
    assert "chart_sources_platform_mapping is not needed" in logs
    assert (state_dir / "sigma-prod.json").is_file(), "stateful_ingestion keeps the state per pipeline_name"
    assert sandbox.client_secret not in logs

    # The next run also denies Quarterly Revenue: a complete run no longer sees it, so it is
    # soft-deleted, from the state the first run left.
    config["workbook_pattern"] = {"deny": ["Marketing", "Quarterly Revenue"]}
    second = tmp_path / "second.json"
    proc = run(config, second)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    removed = {
        m["entityUrn"]
        for m in proposals(second)
        if m["aspectName"] == "status" and m["aspect"]["json"].get("removed") is True
    }
    assert f"urn:li:dashboard:(sigma,{REVENUE})" in removed
    assert f"urn:li:dashboard:(sigma,{MARKETING})" not in removed, "never seen, never removed"


def test_datahub_recipe_keys_are_checked_before_anything_runs() -> None:
    from sigma_connector_datahub.source import SigmaConnectorConfig

    base = {"client_id": "id", "client_secret": "s"}
    for bad, words in [
        ({"api_url": "https://a.example/v2", "host_port": "https://b.example"}, "disagree"),
        ({"workspace_pattern": {"allow": []}}, "nothing would be ingested"),
        (
            {"workbook_pattern": {"deny": ["x"]}, "source_config": {"dashboardFilterPattern": {"excludes": ["y"]}}},
            "say the same thing",
        ),
        ({"ingest_owner": False, "source_config": {"includeOwners": True}}, "disagree"),
        ({"no_such_key": 1}, "no_such_key"),
    ]:
        try:
            SigmaConnectorConfig.model_validate({**base, **bad})
        except Exception as err:  # noqa: BLE001 - pydantic's ValidationError
            assert words in str(err), (bad, str(err))
        else:
            raise AssertionError(f"accepted {bad}")
    c = SigmaConnectorConfig.model_validate({**base, "api_url": "https://api.sigmacomputing.com/v2/"})
    assert (c.host_port, c.api_version) == ("https://api.sigmacomputing.com", "v2")
    c = SigmaConnectorConfig.model_validate(base)
    assert (c.host_port, c.api_version) == ("https://aws-api.sigmacomputing.com", "v2")
    assert c.sigma_source_config() == {"includeOwners": True}


def test_an_incremental_recipe_sends_a_full_runs_proposals_for_far_fewer_requests(tmp_path: Path, sandbox) -> None:
    state = tmp_path / "state.json"
    outputs = []
    for run in range(2):
        out = tmp_path / f"run{run}.json"
        config = recipe(sandbox, {"type": "file", "config": {"filename": str(out)}}, state_file=str(state), incremental=True)
        before = sandbox.requests()
        proc = datahub_ingest(tmp_path, config, sandbox.client_secret)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        # DataHub's file sink stamps each proposal with its run (systemMetadata).
        sent = [{k: v for k, v in m.items() if k != "systemMetadata"} for m in proposals(out)]
        outputs.append((sent, sandbox.requests() - before))
    (first, full), (second, incremental) = outputs
    assert first == second
    assert incremental * 4 < full, (incremental, full)


def test_a_missing_binary_or_pipeline_name_fails_the_pipeline_in_words(tmp_path: Path, sandbox) -> None:
    out = tmp_path / "out.json"
    missing = recipe(sandbox, {"type": "file", "config": {"filename": str(out)}}, binary=str(tmp_path / "nope"))
    proc = datahub_ingest(tmp_path, missing, sandbox.client_secret)
    logs = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "is not an executable file" in logs and "Traceback" not in logs, logs[-3000:]

    stateful = recipe(
        sandbox, {"type": "file", "config": {"filename": str(out)}}, stateful_ingestion={"enabled": True}
    )
    proc = datahub_ingest(tmp_path, stateful, sandbox.client_secret)
    logs = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "has no pipeline_name" in logs, logs[-3000:]
