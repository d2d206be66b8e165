"""Shared set-up: the sigma-connector binary, its sandbox (a Sigma API emulator on loopback),
the GMS stand-in, and runs of the binary with a DataHub sink."""

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
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tools"))

from gms_standin import GmsStandIn  # noqa: E402

#: The org the issue's comparison runs on: Sigma as of 2026, generated.
ORG_2026 = ("--workbooks", "60", "--data-models", "12", "--reports", "15")


def binary() -> str:
    path = os.environ.get("SIGMA_CONNECTOR_BIN")
    if not path:
        pytest.fail("set SIGMA_CONNECTOR_BIN to the sigma-connector binary (datahub/ci.sh does)")
    return path


@dataclass
class Sandbox:
    url: str
    client_id: str
    client_secret: str
    process: subprocess.Popen

    def requests(self) -> int:
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/__stats", timeout=10) as answer:
            return int(json.load(answer)["totalRequests"])


def start_sandbox(*extra: str) -> Sandbox:
    """`sigma-connector sandbox` on a free port; it prints url, client_id, client_secret."""
    process = subprocess.Popen(
        [binary(), "sandbox", "--port", "0", *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    values = {}
    assert process.stdout is not None
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
def gms() -> Iterator[GmsStandIn]:
    g = GmsStandIn(token="standin-token")
    g.start()
    yield g
    g.stop()


def workflow(sandbox: Sandbox, sink: dict, source_config: Optional[dict] = None, connection: Optional[dict] = None) -> dict:
    config = {"type": "DashboardMetadata", "includeOwners": True}
    config.update(source_config or {})
    return {
        "source": {
            "type": "sigma",
            "serviceName": "sigma_sandbox",
            "serviceConnection": {
                "config": {
                    "type": "Sigma",
                    "hostPort": sandbox.url,
                    "clientId": sandbox.client_id,
                    "clientSecret": sandbox.client_secret,
                    "maxRetries": 1,
                    "retryTimeout": 5,
                    **(connection or {}),
                }
            },
            "sourceConfig": {"config": config},
        },
        "sink": sink,
    }


@dataclass
class Run:
    returncode: int
    output: str
    status: dict


def ingest(tmp_path: Path, config: dict, *args: str) -> Run:
    """`sigma-connector ingest` with the workflow on stdin and a status file."""
    status_file = tmp_path / "status.json"
    if status_file.exists():
        status_file.unlink()
    proc = subprocess.run(
        [binary(), "ingest", "--config", "-", "--status-file", str(status_file), *args],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    return Run(proc.returncode, proc.stdout + proc.stderr, status)


def proposals(path: Path) -> List[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def datahub_cli() -> str:
    return str(Path(sys.executable).parent / "datahub")
