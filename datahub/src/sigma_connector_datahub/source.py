"""The DataHub source class: a recipe's config -> a sigma-connector workflow -> one binary run
-> the proposals it wrote, as DataHub work units."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List, Optional

import pydantic
from datahub.configuration.common import ConfigModel
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.ingestion.api.common import PipelineContext
from datahub.ingestion.api.source import CapabilityReport, SourceReport, TestableSource, TestConnectionReport
from datahub.ingestion.api.workunit import MetadataWorkUnit

logger = logging.getLogger(__name__)

ENV_VAR = "SIGMA_CONNECTOR_BIN"
BINARY_NAME = "sigma-connector"


class BinaryNotFound(RuntimeError):
    """The binary is neither named by the config or SIGMA_CONNECTOR_BIN nor installed."""


def find_binary(named: Optional[str] = None) -> str:
    """`binary` from the recipe, else `$SIGMA_CONNECTOR_BIN`, else one in this environment's
    scripts folder, else the first on PATH."""
    named = named or os.environ.get(ENV_VAR)
    if named:
        if Path(named).is_file() and os.access(named, os.X_OK):
            return named
        raise BinaryNotFound(f"{named} is not an executable file; point `binary` or {ENV_VAR} at a built sigma-connector")
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        path = folder / BINARY_NAME
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(BINARY_NAME)
    if found:
        return found
    raise BinaryNotFound(f"the {BINARY_NAME} binary was not found; set `binary` in the recipe or {ENV_VAR}")


class SigmaConnectorConfig(ConfigModel):
    """The recipe's `source.config`. Sigma's connection, DataHub's naming, and the run's
    state; anything else sigma-connector's workflow takes goes through `source_config` and
    `connection_options` unchanged (docs/configuration.md)."""

    host_port: str = pydantic.Field(
        default="https://aws-api.sigmacomputing.com", description="Sigma's API host (without /v2)."
    )
    api_version: str = pydantic.Field(default="v2", description="Sigma API version.")
    client_id: str = pydantic.Field(description="Sigma client id.")
    client_secret: pydantic.SecretStr = pydantic.Field(description="Sigma client secret (never logged).")
    env: str = pydantic.Field(default="PROD", description="DataHub env of the `sigma` datasets.")
    platform_instance: Optional[str] = pydantic.Field(default=None, description="Platform instance of Sigma entities.")
    connection_to_platform_map: Dict[str, Dict[str, Any]] = pydantic.Field(
        default_factory=dict,
        description="Per Sigma connection id or name: {platform, platformInstance, env, convertUrnsToLowercase}.",
    )
    state_file: Optional[str] = pydantic.Field(
        default=None,
        description="sigma-connector's state file: what the last complete run saw, so what a complete run no longer sees is soft-deleted.",
    )
    source_config: Dict[str, Any] = pydantic.Field(
        default_factory=dict, description="sigma-connector's sourceConfig.config (filters, includeOwners, ...)."
    )
    connection_options: Dict[str, Any] = pydantic.Field(
        default_factory=dict, description="Further SigmaConnection settings (maxRetries, retryTimeout, ...)."
    )
    binary: Optional[str] = pydantic.Field(default=None, description="The sigma-connector binary.")
    service_name: str = pydantic.Field(default="sigma", description="The run's name in sigma-connector's status.")


@dataclass
class SigmaConnectorReport(SourceReport):
    outcome: Optional[str] = None
    proposals: int = 0
    sigma_requests: Dict[str, Any] = field(default_factory=dict)
    deleted: int = 0
    output: Optional[str] = None


def _relay(stream: IO[str], tail: deque) -> None:
    """The binary's JSON log lines, as this logger's records."""
    for line in stream:
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            event = json.loads(line)
            if not isinstance(event, dict):
                raise ValueError
            level = getattr(logging, str(event.pop("level", "INFO")).upper(), logging.INFO)
            message = str(event.pop("message", ""))
            for key in ("timestamp", "target", "span", "spans"):
                event.pop(key, None)
            text = " ".join([message, *(f"{k}={v}" for k, v in event.items())]).strip()
        except ValueError:
            level, text = logging.INFO, line
        tail.append(text)
        logger.log(level, "sigma-connector: %s", text)


def _connection(c: SigmaConnectorConfig) -> Dict[str, Any]:
    """The SigmaConnection the binary takes (the secret on stdin only)."""
    connection: Dict[str, Any] = {
        "type": "Sigma",
        "hostPort": c.host_port,
        "apiVersion": c.api_version,
        "clientId": c.client_id,
        "clientSecret": c.client_secret.get_secret_value(),
    }
    connection.update(c.connection_options)
    return connection


class SigmaSource(TestableSource):
    """Sigma Computing, ingested by sigma-connector."""

    def __init__(self, config: SigmaConnectorConfig, ctx: PipelineContext):
        super().__init__(ctx)
        self.config = config
        self.report = SigmaConnectorReport()

    @classmethod
    def create(cls, config_dict: dict, ctx: PipelineContext) -> "SigmaSource":
        return cls(SigmaConnectorConfig.model_validate(config_dict), ctx)

    @staticmethod
    def test_connection(config_dict: dict) -> TestConnectionReport:
        """DataHub's "Test Connection": `sigma-connector test-connection` on the recipe's
        Sigma connection (config, token, one-item listings, one lineage); each of its steps
        is a capability, the mandatory ones make basic connectivity."""
        report = TestConnectionReport()
        try:
            config = SigmaConnectorConfig.model_validate(config_dict)
            proc = subprocess.run(
                [find_binary(config.binary), "test-connection", "--config", "-"],
                input=json.dumps(_connection(config)),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            result = json.loads(proc.stdout)
        except Exception as err:  # noqa: BLE001 - every failure is the report's
            report.internal_failure = True
            report.internal_failure_reason = str(err)
            return report
        steps = result.get("steps", [])
        failed = [s for s in steps if s.get("mandatory") and not s.get("passed")]
        report.basic_connectivity = CapabilityReport(
            capable=not failed and bool(steps),
            failure_reason="; ".join(str(s.get("message", "")) for s in failed) or None,
        )
        report.capability_report = {
            str(s.get("name")): CapabilityReport(
                capable=bool(s.get("passed")),
                failure_reason=None if s.get("passed") else str(s.get("message", "")),
            )
            for s in steps
        }
        return report

    def _workflow(self, output: Path) -> dict:
        c = self.config
        # On stdin only: never written to disk, never on a command line.
        connection = _connection(c)
        sink: Dict[str, Any] = {"filename": str(output), "env": c.env}
        if c.platform_instance:
            sink["platformInstance"] = c.platform_instance
        if c.connection_to_platform_map:
            sink["connectionToPlatformMap"] = c.connection_to_platform_map
        return {
            "source": {
                "type": "sigma",
                "serviceName": c.service_name,
                "serviceConnection": {"config": connection},
                "sourceConfig": {"config": {"type": "DashboardMetadata", **c.source_config}},
            },
            "sink": {"type": "datahub-file", "config": sink},
        }

    def _run(self, workdir: Path) -> dict:
        output = workdir / "proposals.json"
        status_file = workdir / "status.json"
        command = [
            find_binary(self.config.binary),
            "--log-format",
            "json",
            "ingest",
            "--config",
            "-",
            "--status-file",
            str(status_file),
        ]
        if self.config.state_file:
            command += ["--state", self.config.state_file]
        tail: deque = deque(maxlen=20)
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, encoding="utf-8"
        )
        relay = threading.Thread(target=_relay, args=(proc.stderr, tail), daemon=True)
        relay.start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(self._workflow(output)))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        code = proc.wait()
        relay.join(timeout=10)
        if not status_file.exists():
            raise RuntimeError(f"sigma-connector ended with exit code {code} and wrote no status: {'; '.join(tail) or 'no output'}")
        status = json.loads(status_file.read_text(encoding="utf-8"))
        status["exitCode"] = code
        return status

    def get_workunits_internal(self) -> Iterable[MetadataWorkUnit]:
        with tempfile.TemporaryDirectory(prefix="sigma-connector-datahub-") as tmp:
            status = self._run(Path(tmp))
            self.report.outcome = status.get("outcome")
            self.report.sigma_requests = status.get("sigmaRequests", {})
            self.report.deleted = int(status.get("deleted", 0))
            self.report.output = status.get("output")
            for failed in status.get("failedObjects", [])[:20]:
                self.report.warning(title="Sigma object failed", message=str(failed.get("error", "")), context=str(failed.get("name") or failed.get("id")))
            if status.get("error"):
                self.report.failure(title="sigma-connector could not run", message=status["error"])
                return
            if status.get("outcome") == "partial":
                self.report.warning(
                    title="Sigma listing ended early",
                    message="what was fetched is written; nothing is marked removed, and the state stays as the last complete run left it",
                )
            elif status.get("outcome") == "failed":
                self.report.failure(title="sigma-connector run failed", message=json.dumps(status.get("steps", []))[:2000])
            path = Path(status["output"]) if status.get("output") else None
            if path is None or not path.exists():
                return
            for number, obj in enumerate(json.loads(path.read_text(encoding="utf-8"))):
                mcp = MetadataChangeProposalWrapper.from_obj(obj)
                self.report.proposals += 1
                yield MetadataWorkUnit(id=f"sigma-connector-{number}", mcp=mcp)

    def get_report(self) -> SourceReport:
        return self.report
