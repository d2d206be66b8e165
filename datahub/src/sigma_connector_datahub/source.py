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
from datahub.configuration.common import AllowDenyPattern, ConfigModel
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


#: DataHub's Sigma source's default `api_url`.
DEFAULT_API_URL = "https://aws-api.sigmacomputing.com/v2"


class SigmaConnectorConfig(ConfigModel):
    """The recipe's `source.config`. Sigma's connection, DataHub's naming, and the run's
    state; anything else sigma-connector's workflow takes goes through `source_config` and
    `connection_options` unchanged (docs/configuration.md).

    A recipe written for DataHub's own Sigma source (`type: sigma`) works with only its
    `type` changed: its keys (`api_url`, `workspace_pattern`, `workbook_pattern`,
    `data_model_pattern`, `ingest_owner`, `ingest_data_models`, `ingest_datasets`,
    `extract_lineage`, `connection_to_platform_map`, `stateful_ingestion`, ...) are read
    here and mean what they mean there, or the run says in one warning what it does instead
    (docs/datahub.md, "A recipe of DataHub's Sigma source")."""

    host_port: Optional[str] = pydantic.Field(
        default=None,
        description="Sigma's API host (without /v2); default https://aws-api.sigmacomputing.com. Or give `api_url`.",
    )
    api_url: Optional[str] = pydantic.Field(
        default=None,
        description="DataHub's Sigma source's spelling: the API URL with its version (https://aws-api.sigmacomputing.com/v2).",
    )
    api_version: Optional[str] = pydantic.Field(default=None, description="Sigma API version (default v2).")
    client_id: str = pydantic.Field(description="Sigma client id.")
    client_secret: pydantic.SecretStr = pydantic.Field(description="Sigma client secret (never logged).")
    env: str = pydantic.Field(default="PROD", description="DataHub env of the `sigma` datasets.")
    platform_instance: Optional[str] = pydantic.Field(default=None, description="Platform instance of Sigma entities.")
    connection_to_platform_map: Dict[str, Dict[str, Any]] = pydantic.Field(
        default_factory=dict,
        description="Per Sigma connection id or name: {platform, platform_instance, env, default_database, convert_urns_to_lowercase} (camelCase spellings too).",
    )
    workspace_pattern: AllowDenyPattern = pydantic.Field(
        default=AllowDenyPattern.allow_all(), description="Workspaces by name (sigma-connector's projectFilterPattern)."
    )
    workbook_pattern: AllowDenyPattern = pydantic.Field(
        default=AllowDenyPattern.allow_all(),
        description="Workbooks (and reports) by name (sigma-connector's dashboardFilterPattern).",
    )
    data_model_pattern: AllowDenyPattern = pydantic.Field(
        default=AllowDenyPattern.allow_all(),
        description="Data models and datasets by name (sigma-connector's dataModelFilterPattern).",
    )
    ingest_owner: Optional[bool] = pydantic.Field(
        default=None, description="Owners of workbooks and data models (default true, as DataHub's Sigma source)."
    )
    ingest_data_models: Optional[bool] = pydantic.Field(
        default=None, description="Data models and datasets (sigma-connector's includeDataModels; default true)."
    )
    ingest_datasets: Optional[bool] = pydantic.Field(
        default=None, description="Retired Sigma datasets; read with data models (see ingest_data_models)."
    )
    extract_lineage: Optional[bool] = pydantic.Field(
        default=None, description="false: no lineage aspects are emitted (upstreamLineage, inputFields, chart inputs)."
    )
    ingest_shared_entities: Optional[bool] = pydantic.Field(
        default=None, description="Accepted for DataHub recipes: sigma-connector ingests what the client can list."
    )
    workbook_lineage_pattern: AllowDenyPattern = pydantic.Field(
        default=AllowDenyPattern.allow_all(),
        description="Accepted for DataHub recipes; lineage is kept for every workbook (a warning says so when set).",
    )
    chart_sources_platform_mapping: Dict[str, Dict[str, Any]] = pydantic.Field(
        default_factory=dict,
        description="Accepted for DataHub recipes; platforms come from Sigma's connection types and connection_to_platform_map.",
    )
    max_personal_dm_discovery_rounds: Optional[int] = pydantic.Field(
        default=None, description="Accepted for DataHub recipes; no discovery loop here."
    )
    stateful_ingestion: Optional[Dict[str, Any]] = pydantic.Field(
        default=None,
        description="DataHub's switch for removing stale entities: enabled (with a pipeline_name) keeps sigma-connector's state in state_file, or in $SIGMA_CONNECTOR_STATE_DIR (default ~/.datahub/sigma-connector)/<pipeline_name>.json.",
    )
    state_file: Optional[str] = pydantic.Field(
        default=None,
        description="sigma-connector's state file: what the last complete run saw, so what a complete run no longer sees is soft-deleted.",
    )
    incremental: bool = pydantic.Field(
        default=False,
        description="Expand only what changed since the state's run and render the rest from the state (needs state_file or stateful_ingestion).",
    )
    source_config: Dict[str, Any] = pydantic.Field(
        default_factory=dict, description="sigma-connector's sourceConfig.config (filters, includeOwners, ...)."
    )
    connection_options: Dict[str, Any] = pydantic.Field(
        default_factory=dict, description="Further SigmaConnection settings (maxRetries, retryTimeout, ...)."
    )
    binary: Optional[str] = pydantic.Field(default=None, description="The sigma-connector binary.")
    service_name: str = pydantic.Field(default="sigma", description="The run's name in sigma-connector's status.")

    @pydantic.model_validator(mode="after")
    def _one_way_to_say_each_thing(self) -> "SigmaConnectorConfig":
        if self.api_url is not None:
            host, version = split_api_url(self.api_url)
            if self.host_port is not None and self.host_port.rstrip("/") != host:
                raise ValueError(f"api_url ({self.api_url}) and host_port ({self.host_port}) disagree: give one")
            if self.api_version is not None and self.api_version != version:
                raise ValueError(f"api_url ends in {version} but api_version is {self.api_version}: give one")
            self.host_port, self.api_version = host, version
        if self.host_port is None:
            self.host_port, self.api_version = split_api_url(DEFAULT_API_URL)[0], self.api_version
        if self.api_version is None:
            self.api_version = "v2"
        for key, pattern in PATTERNS.items():
            allow_deny: AllowDenyPattern = getattr(self, key)
            if not allow_deny.allow:
                raise ValueError(f"{key}.allow is empty: nothing would be ingested (leave it out to allow every name)")
            if not _is_default(allow_deny) and pattern in self.source_config:
                raise ValueError(f"{key} and source_config.{pattern} say the same thing: give one")
        owners = self.source_config.get("includeOwners")
        if self.ingest_owner is not None and owners is not None and owners != self.ingest_owner:
            raise ValueError("ingest_owner and source_config.includeOwners disagree: give one")
        models = self.source_config.get("includeDataModels")
        if self.ingest_data_models is not None and models is not None and models != self.ingest_data_models:
            raise ValueError("ingest_data_models and source_config.includeDataModels disagree: give one")
        if self.stateful_ingestion is not None and not isinstance(self.stateful_ingestion.get("enabled", False), bool):
            raise ValueError("stateful_ingestion.enabled must be true or false")
        if self.incremental and not self.state_file and not (self.stateful_ingestion or {}).get("enabled"):
            raise ValueError("incremental needs a state: set state_file, or enable stateful_ingestion")
        return self

    def sigma_source_config(self) -> Dict[str, Any]:
        """sigma-connector's sourceConfig.config: `source_config` with DataHub's keys mapped in."""
        config = dict(self.source_config)
        for key, pattern in PATTERNS.items():
            allow_deny: AllowDenyPattern = getattr(self, key)
            if not _is_default(allow_deny):
                config[pattern] = filter_pattern(allow_deny)
        config.setdefault("includeOwners", True if self.ingest_owner is None else self.ingest_owner)
        if self.ingest_data_models is not None:
            config.setdefault("includeDataModels", self.ingest_data_models)
        elif self.ingest_datasets is False and self.ingest_data_models is False:
            config.setdefault("includeDataModels", False)
        if not self.removes_stale_entities():
            for switch in ("markDeletedDashboards", "markDeletedCharts", "markDeletedDataModels"):
                config.setdefault(switch, False)
        return config

    def removes_stale_entities(self) -> bool:
        """False only when `stateful_ingestion` is enabled with `remove_stale_metadata: false`."""
        s = self.stateful_ingestion or {}
        return not (s.get("enabled") and s.get("remove_stale_metadata", True) is False)

    def state_path(self, pipeline_name: Optional[str]) -> Optional[str]:
        """`state_file`, else the one `stateful_ingestion` implies (it needs a pipeline name,
        as DataHub's own stateful sources do)."""
        if self.state_file:
            return self.state_file
        if not (self.stateful_ingestion or {}).get("enabled"):
            return None
        if not pipeline_name:
            raise ValueError("stateful_ingestion is enabled but the recipe has no pipeline_name: add one (or set state_file)")
        folder = Path(os.environ.get(STATE_DIR_ENV) or Path.home() / ".datahub" / "sigma-connector")
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in pipeline_name)
        return str(folder / f"{safe}.json")

    def platform_map(self) -> Dict[str, Dict[str, Any]]:
        """connection_to_platform_map in the binary's spelling (DataHub's snake_case keys read too)."""
        spelled = {
            "platform_instance": "platformInstance",
            "convert_urns_to_lowercase": "convertUrnsToLowercase",
            "default_database": "defaultDatabase",
            "data_source_platform": "platform",
        }
        out: Dict[str, Dict[str, Any]] = {}
        for connection, entry in self.connection_to_platform_map.items():
            mapped: Dict[str, Any] = {}
            for key, value in entry.items():
                if key == "default_schema" or key == "defaultSchema":
                    continue  # a SQL-parsing fallback there; Sigma's paths name the schema
                mapped[spelled.get(key, key)] = value
            out[connection] = mapped
        return out

    def notices(self) -> List[str]:
        """What a DataHub recipe asked for that this source does differently, in words."""
        said = []
        if self.extract_lineage is not False and not _is_default(self.workbook_lineage_pattern):
            said.append("workbook_lineage_pattern is not supported: lineage is kept for every workbook that is ingested")
        if self.chart_sources_platform_mapping:
            said.append(
                "chart_sources_platform_mapping is not needed: warehouse platforms come from Sigma's connection types; "
                "override one in connection_to_platform_map"
            )
        if self.ingest_datasets is False and self.ingest_data_models is not False:
            said.append(
                "ingest_datasets: false alone is not separate here: retired datasets are read with data models "
                "(Sigma's retired dataset API costs one call); set ingest_data_models: false to skip both"
            )
        if self.ingest_datasets is not False and self.ingest_data_models is False:
            said.append("ingest_data_models: false skips retired datasets too (they are read together)")
        for key in PATTERNS:
            if not getattr(self, key).ignoreCase:
                said.append(f"{key}.ignoreCase: false is not supported: names are matched case-insensitively")
        if any(
            "default_schema" in e or "defaultSchema" in e for e in self.connection_to_platform_map.values()
        ):
            said.append("connection_to_platform_map.default_schema is not used: Sigma's table paths name the schema")
        return said


#: DataHub's pattern keys -> sigma-connector's filter patterns.
PATTERNS = {
    "workspace_pattern": "projectFilterPattern",
    "workbook_pattern": "dashboardFilterPattern",
    "data_model_pattern": "dataModelFilterPattern",
}

STATE_DIR_ENV = "SIGMA_CONNECTOR_STATE_DIR"

#: Aspects that carry lineage, dropped when `extract_lineage: false`.
LINEAGE_ASPECTS = {"upstreamLineage", "inputFields"}


def split_api_url(url: str) -> "tuple[str, str]":
    """`https://host/v2` -> (`https://host`, `v2`); a URL without a version keeps v2."""
    url = url.strip().rstrip("/")
    head, _, last = url.rpartition("/")
    if head and len(last) > 1 and last[0] == "v" and last[1:].replace(".", "").isdigit():
        return head, last
    return url, "v2"


def _is_default(pattern: AllowDenyPattern) -> bool:
    return list(pattern.allow) == [".*"] and not pattern.deny


def filter_pattern(pattern: AllowDenyPattern) -> Dict[str, List[str]]:
    """DataHub's allow/deny as an OpenMetadata filter pattern: a name passes when it matches
    an allow regex and no deny regex, which is what includes/excludes mean (an exclude wins).
    Both match from the start of the name (Python's re.match)."""
    out: Dict[str, List[str]] = {}
    if list(pattern.allow) != [".*"]:
        out["includes"] = list(pattern.allow)
    if pattern.deny:
        out["excludes"] = list(pattern.deny)
    return out


def drop_lineage(obj: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A proposal without its lineage (`extract_lineage: false`): lineage aspects go, and
    chart inputs are emptied; `None` when nothing is left to send."""
    if obj.get("aspectName") in LINEAGE_ASPECTS:
        return None
    if obj.get("aspectName") == "chartInfo":
        aspect = (obj.get("aspect") or {}).get("json")
        if isinstance(aspect, dict):
            aspect.pop("inputs", None)
            aspect.pop("inputEdges", None)
    return obj


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
            sink["connectionToPlatformMap"] = c.platform_map()
        return {
            "source": {
                "type": "sigma",
                "serviceName": c.service_name,
                "serviceConnection": {"config": connection},
                "sourceConfig": {"config": {"type": "DashboardMetadata", **c.sigma_source_config()}},
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
        state = self.config.state_path(self.ctx.pipeline_name)
        if state:
            Path(state).parent.mkdir(parents=True, exist_ok=True)
            command += ["--state", state]
            if self.config.incremental:
                command.append("--incremental")
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
        for notice in self.config.notices():
            self.report.warning(title="Recipe option read differently", message=notice)
        with tempfile.TemporaryDirectory(prefix="sigma-connector-datahub-") as tmp:
            try:
                status = self._run(Path(tmp))
            except (ValueError, BinaryNotFound, OSError) as err:
                # A state that cannot be placed, no binary, a binary that cannot start: the
                # pipeline fails with these words rather than a traceback.
                self.report.failure(title="sigma-connector could not run", message=str(err))
                return
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
            number = 0
            for obj in json.loads(path.read_text(encoding="utf-8")):
                if self.config.extract_lineage is False:
                    obj = drop_lineage(obj)
                    if obj is None:
                        continue
                mcp = MetadataChangeProposalWrapper.from_obj(obj)
                number += 1
                self.report.proposals += 1
                yield MetadataWorkUnit(id=f"sigma-connector-{number}", mcp=mcp)

    def get_report(self) -> SourceReport:
        return self.report
