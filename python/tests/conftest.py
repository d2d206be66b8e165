"""Shared set-up: the sigma-connector binary, its sandbox (a Sigma API emulator on
loopback), the OpenMetadata stand-in, and `metadata ingest` on a CustomDashboard workflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from om_standin import OpenMetadataStandIn  # noqa: E402

SERVICE = "sigma_sandbox"
FIXTURE_RECORDS = REPO / "tests" / "data" / "fixture-org.jsonl"
MARKETING = "a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02"
#: The owners of the fixture org's workbooks (as OpenMetadata users).
def _fixture_owners() -> dict[str, str]:
    """OpenMetadata user name -> email, for every owner the fixture org's records name
    (workbooks' and reports' owners, members beyond Sigma's first page included)."""
    owners = {}
    for line in FIXTURE_RECORDS.read_text(encoding="utf-8").splitlines():
        for email in json.loads(line).get("refs", {}).get("owners", []):
            owners[email.split("@")[0]] = email
    return owners


OWNERS = _fixture_owners()


def binary() -> str:
    path = os.environ.get("SIGMA_CONNECTOR_BIN")
    if not path:
        pytest.fail("set SIGMA_CONNECTOR_BIN to the sigma-connector binary (python/ci.sh does)")
    return path


@dataclass
class Sandbox:
    url: str
    client_id: str
    client_secret: str
    process: subprocess.Popen


def start_sandbox(*extra: str) -> Sandbox:
    """`sigma-connector sandbox` on a free port; it prints url, client_id, client_secret."""
    process = subprocess.Popen(
        [binary(), "sandbox", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    values = {}
    assert process.stdout is not None
    # It prints `key: value` lines (url, api, client_id, client_secret); read until the
    # three we need are there, whatever else it says first.
    while not {"url", "client_id", "client_secret"} <= values.keys():
        line = process.stdout.readline()
        if not line:
            process.kill()
            pytest.fail("the sandbox exited before printing its url and credentials")
        key, _, value = line.strip().partition(": ")
        values[key] = value
    return Sandbox(values["url"].rstrip("/"), values["client_id"], values["client_secret"], process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    s = start_sandbox()
    yield s
    stop(s.process)


@pytest.fixture
def openmetadata() -> Iterator[OpenMetadataStandIn]:
    om = OpenMetadataStandIn()
    for name, email in OWNERS.items():
        om.add_user(name, email)
    tables = set()
    for line in FIXTURE_RECORDS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] == "lineage" and record["entity"]["from"]["type"] == "table":
            tables.add(record["entity"]["from"]["fqn"])
    for fqn in sorted(tables):
        om.add_table(fqn)
    om.url = om.start()
    yield om
    om.stop()


def workflow(
    om_url: str,
    sandbox: Sandbox,
    source_config: Optional[dict] = None,
    options: Optional[dict] = None,
    service: str = SERVICE,
) -> dict:
    """A 2.0.7 workflow for a Custom Dashboard service run by our class. The secret is an
    environment reference (SIGMA_CLIENT_SECRET) in the form `metadata ingest` does not expand
    itself, as docs/openmetadata-native.md says."""
    connection_options = {
        "hostPort": sandbox.url,
        "clientId": sandbox.client_id,
        "clientSecret": "env:SIGMA_CLIENT_SECRET",
        "maxRetries": "1",
        "retryTimeout": "5",
    }
    connection_options.update(options or {})
    config = {
        "type": "DashboardMetadata",
        "includeOwners": True,
        "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]},
    }
    config.update(source_config or {})
    return {
        "source": {
            "type": "CustomDashboard",
            "serviceName": service,
            "serviceConnection": {
                "config": {
                    "type": "CustomDashboard",
                    "sourcePythonClass": "sigma_connector_om.source.SigmaSource",
                    "connectionOptions": connection_options,
                }
            },
            "sourceConfig": {"config": config},
        },
        "sink": {"type": "metadata-rest", "config": {}},
        "workflowConfig": {
            "loggerLevel": "INFO",
            "openMetadataServerConfig": {
                "hostPort": om_url,
                "authProvider": "openmetadata",
                "securityConfig": {"jwtToken": "standin-jwt-token"},
            },
        },
    }


@dataclass
class Ingest:
    returncode: int
    output: str


def metadata_ingest(tmp_path: Path, config: dict, secret: str, extra_env: Optional[dict] = None) -> Ingest:
    """OpenMetadata's own CLI, `metadata ingest -c FILE`, in a subprocess."""
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    env = dict(os.environ)
    env["SIGMA_CLIENT_SECRET"] = secret
    env.update(extra_env or {})
    metadata = Path(sys.executable).parent / "metadata"
    proc = subprocess.run(
        [str(metadata), "ingest", "-c", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return Ingest(proc.returncode, proc.stdout + proc.stderr)


def fixture_records(kind: str) -> List[dict]:
    return [
        r
        for r in (json.loads(line) for line in FIXTURE_RECORDS.read_text(encoding="utf-8").splitlines())
        if r["kind"] == kind
    ]
