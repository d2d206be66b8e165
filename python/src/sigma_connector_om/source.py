"""The Sigma source OpenMetadata's framework loads: ``type: CustomDashboard`` with
``sourcePythonClass: sigma_connector_om.source.SigmaSource``.

The binary does the Sigma side (auth, paging, retries, lineage) and writes OpenMetadata
Create requests as JSON Lines (docs/records.md); this class feeds them to the framework's
topology runner in its order: the service, data models in bulk (then their lineage), then per
workbook its tags, charts, dashboard and lineage, then mark-deleted. Records are read as the
binary writes them, one workbook at a time, gathered by the group each record line names
(never by their order). OpenMetadata's own sink writes everything; owners
are resolved by email through OpenMetadata's client, Sigma tags become tags of a
``SigmaTags`` classification, lineage is sent by FQN.

Per-object failures the binary reports (``failedObjects`` in its status) become failures in
OpenMetadata's status, named by kind and id. Nothing is marked deleted when any listing was
incomplete or any object failed, or when the binary did not finish.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from metadata.generated.schema.api.data.createChart import CreateChartRequest
from metadata.generated.schema.api.data.createDashboard import CreateDashboardRequest
from metadata.generated.schema.api.data.createDashboardDataModel import (
    CreateDashboardDataModelRequest,
)
from metadata.generated.schema.entity.automations.workflow import (
    Workflow as AutomationWorkflow,
)
from metadata.generated.schema.entity.automations.workflow import WorkflowStatus
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.services.connections.dashboard.customDashboardConnection import (
    CustomDashboardConnection,
)
from metadata.generated.schema.entity.services.connections.testConnectionResult import (
    StatusType,
    TestConnectionResult,
    TestConnectionStepResult,
)
from metadata.generated.schema.entity.services.ingestionPipelines.status import (
    StackTraceError,
)
from metadata.generated.schema.metadataIngestion.workflow import (
    Source as WorkflowSource,
)
from metadata.generated.schema.type.basic import Timestamp
from metadata.generated.schema.type.entityLineage import (
    ColumnLineage,
    LineageDetails,
)
from metadata.generated.schema.type.entityLineage import Source as LineageSource
from metadata.generated.schema.type.entityReferenceList import EntityReferenceList
from metadata.ingestion.api.models import Either
from metadata.ingestion.api.steps import InvalidSourceException
from metadata.ingestion.models.barrier import Barrier
from metadata.ingestion.models.ometa_classification import OMetaTagAndClassification
from metadata.ingestion.models.ometa_lineage import (
    OMetaFQNLineageRequest,
    OMetaLineageRequest,
)
from metadata.ingestion.ometa.ometa_api import OpenMetadata
from metadata.ingestion.source.dashboard.dashboard_service import DashboardServiceSource
from metadata.utils.logger import ingestion_logger
from metadata.utils.tag_utils import get_ometa_tag_and_classification, get_tag_labels

from . import binary as binary_mod
from .binary import BinaryRun, BinaryRunError
from .connection import ConnectionOptionsError, sigma_connection
from .service_spec import install as install_service_spec

logger = ingestion_logger()

# Before OpenMetadata's DashboardServiceSource.__init__ looks up the Custom Dashboard service
# spec (four times): without it, every run logged four false ERROR lines (service_spec.py).
install_service_spec()

#: The classification Sigma tags are filed under (as the binary's own metadata-rest sink does).
TAG_CLASSIFICATION = "SigmaTags"

_LOG = {
    "TRACE": logger.debug,
    "DEBUG": logger.debug,
    "INFO": logger.info,
    "WARN": logger.warning,
    "WARNING": logger.warning,
    "ERROR": logger.error,
}


def _log(level: str, message: str) -> None:
    _LOG.get(level, logger.info)(f"sigma-connector: {message}")


def _log_level() -> str:
    return "debug" if logger.isEnabledFor(10) else "info"


# ---------------------------------------------------------------------------------------
# Connection hooks: OpenMetadata imports these from the source class's module.
# ---------------------------------------------------------------------------------------


@dataclass
class SigmaBinary:
    """What ``get_connection`` returns: the binary and the SigmaConnection to give it, or
    why there is none (reported as a failed CheckConfig step by ``test_connection``)."""

    path: Optional[str]
    # Kept out of repr: it may hold the client secret when one was typed in literally.
    connection: Optional[Dict[str, Any]] = field(repr=False)
    problem: Optional[str] = None


def get_connection(connection: CustomDashboardConnection) -> SigmaBinary:
    try:
        path = binary_mod.find_binary()
    except binary_mod.BinaryNotFound as err:
        return SigmaBinary(path=None, connection=None, problem=str(err))
    try:
        return SigmaBinary(path=path, connection=sigma_connection(connection))
    except ConnectionOptionsError as err:
        return SigmaBinary(path=path, connection=None, problem=str(err))


def _failed_result(problem: str) -> TestConnectionResult:
    return TestConnectionResult(
        lastUpdatedAt=Timestamp(int(time.time() * 1000)),
        status=StatusType.Failed,
        steps=[
            TestConnectionStepResult(
                name="CheckConfig",
                mandatory=True,
                passed=False,
                message=problem,
            )
        ],
    )


def test_connection(
    metadata: OpenMetadata,
    client: Optional[SigmaBinary],
    service_connection: CustomDashboardConnection,
    automation_workflow: Optional[AutomationWorkflow] = None,
    timeout_seconds: Optional[int] = 180,
) -> TestConnectionResult:
    """Runs ``sigma-connector test-connection`` and returns its TestConnectionResult; when
    OpenMetadata's automations run it, the result is patched into the automation workflow
    (``/response``, and ``/status`` Successful: the test ran, whatever it found)."""
    client = client if client is not None else get_connection(service_connection)
    workflow_status = WorkflowStatus.Successful
    if client.problem is not None or client.path is None or client.connection is None:
        result = _failed_result(client.problem or "the sigma-connector binary is not available")
    else:
        try:
            result = TestConnectionResult.model_validate(
                binary_mod.run_test_connection(client.path, client.connection, timeout_seconds)
            )
        except Exception as err:  # the binary crashed or timed out: still answer the UI
            logger.debug("test-connection failed to run", exc_info=True)
            result = _failed_result(f"sigma-connector test-connection could not run: {err}")
            workflow_status = WorkflowStatus.Failed
    for step in result.steps:
        if not step.passed:
            # OpenMetadata's own error names only the step; say why, here.
            (logger.error if step.mandatory else logger.warning)(
                f"test connection step {step.name} failed: {step.message or 'no message'}"
            )
    if automation_workflow is not None:
        metadata.patch_automation_workflow_response(automation_workflow, result, workflow_status)
    return result


# ---------------------------------------------------------------------------------------
# The record stream, grouped the way the topology consumes it.
# ---------------------------------------------------------------------------------------


@dataclass
class Workbook:
    """A workbook's records: its charts, its elements' data models (their columns), its
    dashboard and the lineage into them."""

    dashboard: Optional[dict] = None
    charts: List[dict] = field(default_factory=list)
    data_models: List[dict] = field(default_factory=list)
    lineage: List[dict] = field(default_factory=list)


@dataclass
class DataModelLineage:
    """Stands for the lineage into data models, sent after all data models are written."""

    lineage: List[dict]


def _group(record: dict) -> Optional[Tuple[str, str]]:
    """The Sigma object a record was rendered from, as the binary names it on each line
    (``{"kind": "document", "id": ...}``); None for a delete."""
    group = record.get("group")
    if not isinstance(group, dict):
        return None
    return str(group.get("kind")), str(group.get("id"))


class RecordStream:
    """The binary's records, read once: data models and datasets (and their lineage) first,
    then workbooks and reports, each gathered by the group its records carry, never by
    their order or kind. Keeps one workbook in memory at a time."""

    def __init__(self, records: Iterator[dict]):
        self._records = records
        self._peeked: Optional[dict] = None

    def _next(self) -> Optional[dict]:
        if self._peeked is not None:
            record, self._peeked = self._peeked, None
            return record
        return next(self._records, None)

    def _peek(self) -> Optional[dict]:
        if self._peeked is None:
            self._peeked = next(self._records, None)
        return self._peeked

    def data_models(self) -> Iterator[Any]:
        lineage: List[dict] = []
        while True:
            record = self._peek()
            group = _group(record) if record is not None else None
            # The org's, the data models' and the datasets' groups come first; a document's
            # (or a delete, which has none) ends them.
            if group is None or group[0] == "document":
                break
            self._next()
            if group[0] in ("dataModel", "dataset"):
                if record["kind"] == "dataModel":
                    yield record
                elif record["kind"] == "lineage":
                    lineage.append(record)
            # The org (dashboardService): the framework creates the service from the workflow.
        if lineage:
            yield DataModelLineage(lineage)

    def workbooks(self) -> Iterator[Workbook]:
        current: Optional[Workbook] = None
        current_group: Optional[Tuple[str, str]] = None
        while True:
            record = self._next()
            if record is None:
                break
            group = _group(record)
            if group is None or group[0] != "document":
                continue
            if group != current_group:
                if current is not None and current.dashboard is not None:
                    yield current
                current, current_group = Workbook(), group
            kind = record["kind"]
            if kind == "chart":
                current.charts.append(record)
            elif kind == "dataModel":
                # An element's columns.
                current.data_models.append(record)
            elif kind == "dashboard":
                current.dashboard = record
            elif kind == "lineage":
                current.lineage.append(record)
        if current is not None and current.dashboard is not None:
            yield current


class SigmaSource(DashboardServiceSource):
    """Sigma Computing through the sigma-connector binary."""

    def __init__(self, config: WorkflowSource, metadata: OpenMetadata):
        self._run: Optional[BinaryRun] = None
        self._stream: Optional[RecordStream] = None
        self._workdir: Optional[Path] = None
        self._status: Optional[dict] = None
        self._run_error: Optional[str] = None
        self._failures_reported = False
        self._table_fqns: Dict[str, bool] = {}
        # DashboardServiceSource keeps what a run saw in class-level sets, shared by every
        # instance in the process: give each run its own, or a second run in the same
        # process (a long-lived worker, a test) would count the first run's entities as seen.
        self.dashboard_source_state = set()
        self.datamodel_source_state = set()
        self.chart_source_state = set()
        super().__init__(config, metadata)

    @classmethod
    def create(cls, config_dict: dict, metadata: OpenMetadata, pipeline_name: Optional[str] = None) -> "SigmaSource":
        config = WorkflowSource.model_validate(config_dict)
        connection = config.serviceConnection.root.config
        if not isinstance(connection, CustomDashboardConnection):
            raise InvalidSourceException(
                f"Expected a CustomDashboardConnection (type: CustomDashboard), but got {type(connection).__name__}"
            )
        return cls(config, metadata)

    # -- the binary -------------------------------------------------------------------

    def _binary_workflow(self) -> dict:
        """The workflow the binary runs: this service, the Sigma connection from
        connectionOptions, and this pipeline's sourceConfig unchanged."""
        if self.client.problem is not None or self.client.connection is None:
            raise ConnectionOptionsError(self.client.problem or "no Sigma connection")
        return {
            "source": {
                "type": "sigma",
                "serviceName": self.config.serviceName,
                "serviceConnection": {"config": self.client.connection},
                "sourceConfig": {
                    "config": self.source_config.model_dump(mode="json", by_alias=True, exclude_none=True)
                },
            },
            "sink": {"type": "file", "config": {"filename": "-"}},
            "workflowConfig": {"loggerLevel": "INFO"},
        }

    def _records(self) -> RecordStream:
        if self._stream is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="sigma-connector-"))
            self._run = BinaryRun(
                self.client.path,
                self._binary_workflow(),
                self._workdir / "status.json",
                _log,
                _log_level(),
            )
            self._stream = RecordStream(self._run.records())
        return self._stream

    def _finish(self) -> Optional[dict]:
        """The binary's status once its output is consumed; None when it did not finish."""
        if self._status is None and self._run_error is None:
            if self._run is None:
                self._run_error = "the sigma-connector binary was never started"
            else:
                try:
                    unread = self._run.drain()
                    self._status = self._run.finish()
                    if unread:
                        # A producer stopped early: what it did not read was not written.
                        self._run_error = f"{unread} record(s) were not ingested"
                        self._status = None
                except BinaryRunError as err:
                    self._run_error = str(err)
        return self._status

    # -- topology: data models --------------------------------------------------------

    def list_datamodels(self) -> Iterable[Any]:
        if not self.source_config.includeDataModels:
            return
        yield from self._records().data_models()

    def yield_bulk_datamodel(self, item: Any) -> Iterable[Either[Any]]:
        if isinstance(item, DataModelLineage):
            # The data models are in the sink's buffer: flush before lineage names them.
            yield Either(right=Barrier(reason="sigma_data_model_lineage"))
            yield from self._lineage(item.lineage)
            return
        yield from self._data_model(item)

    def _data_model(self, item: dict) -> Iterable[Either[Any]]:
        try:
            entity = dict(item["entity"])
            # The service is a Custom Dashboard service here, not a Sigma one.
            entity["serviceType"] = "CustomDashboard"
            request = CreateDashboardDataModelRequest.model_validate(entity)
        except Exception as err:
            yield self._left(f"dataModel {item.get('fqn')}", f"not a valid data model: {err}")
            return
        yield Either(right=request)
        self.register_record_datamodel(datamodel_request=request)

    def yield_datamodel(self, dashboard_details: Any) -> Iterable[Either[Any]]:
        """A workbook's or report's elements' columns, each element as a data model (the
        topology's per-dashboard data model stage, before the dashboard that lists them)."""
        if not isinstance(dashboard_details, Workbook) or not self.source_config.includeDataModels:
            return
        for record in dashboard_details.data_models:
            yield from self._data_model(record)

    # -- topology: dashboards ---------------------------------------------------------

    def get_dashboards_list(self) -> Iterable[Workbook]:
        yield from self._records().workbooks()

    def get_dashboard_name(self, dashboard: Workbook) -> str:
        entity = dashboard.dashboard["entity"]
        return entity.get("displayName") or entity["name"]

    def get_dashboard_details(self, dashboard: Workbook) -> Workbook:
        return dashboard

    def get_project_name(self, dashboard_details: Workbook) -> Optional[str]:
        return dashboard_details.dashboard["entity"].get("project")

    def yield_tags(self, dashboard_details: Workbook) -> Iterable[Either[OMetaTagAndClassification]]:
        tags = (dashboard_details.dashboard.get("refs") or {}).get("tags") or []
        if tags and self.source_config.includeTags:
            yield from get_ometa_tag_and_classification(
                tags=tags,
                classification_name=TAG_CLASSIFICATION,
                tag_description="Sigma tag",
                classification_description="Tags (badges) from Sigma Computing",
                include_tags=True,
            )

    def yield_dashboard_chart(self, dashboard_details: Workbook) -> Iterable[Either[CreateChartRequest]]:
        for record in dashboard_details.charts:
            try:
                request = CreateChartRequest.model_validate(record["entity"])
            except Exception as err:
                yield self._left(f"chart {record.get('fqn')}", f"not a valid chart: {err}")
                continue
            yield Either(right=request)
            self.register_record_chart(chart_request=request)

    def yield_dashboard(self, dashboard_details: Workbook) -> Iterable[Either[CreateDashboardRequest]]:
        record = dashboard_details.dashboard
        refs = record.get("refs") or {}
        try:
            request = CreateDashboardRequest.model_validate(record["entity"])
            owners = self._owners(refs.get("owners") or [])
            if owners:
                request.owners = owners
            if refs.get("tags") and self.source_config.includeTags:
                request.tags = get_tag_labels(
                    metadata=self.metadata,
                    tags=refs["tags"],
                    classification_name=TAG_CLASSIFICATION,
                    include_tags=True,
                )
        except Exception as err:
            yield self._left(f"dashboard {record.get('fqn')}", f"not a valid dashboard: {err}")
            return
        yield Either(right=request)
        self.register_record(dashboard_request=request)

    def _owners(self, emails: List[str]) -> Optional[EntityReferenceList]:
        refs = []
        for email in emails:
            found = self.metadata.get_reference_by_email(email)
            if found:
                refs.extend(found.root)
            else:
                logger.debug(f"no OpenMetadata user or team has the email {email}")
        return EntityReferenceList(root=refs) if refs else None

    def yield_dashboard_lineage(self, dashboard_details: Workbook) -> Iterable[Either[OMetaLineageRequest]]:
        if not dashboard_details.lineage:
            return
        # Charts, data models and the dashboard must be written before lineage names them.
        yield Either(right=Barrier(reason="sigma_dashboard_lineage"))
        yield from self._lineage(dashboard_details.lineage)

    def yield_dashboard_lineage_details(self, dashboard_details: Any, db_service_prefix: Optional[str] = None):
        # Lineage comes whole from the binary (yield_dashboard_lineage above).
        return iter(())

    def _lineage(self, records: List[dict]) -> Iterable[Either[OMetaLineageRequest]]:
        for record in records:
            edge = record["entity"]
            from_fqn = self._lineage_from(edge, record.get("refs") or {})
            if from_fqn is None:
                logger.debug(f"lineage {record.get('fqn')}: no such table in OpenMetadata, skipped")
                continue
            columns = [
                ColumnLineage(fromColumns=c["fromColumns"], toColumn=c["toColumn"])
                for c in edge.get("columns") or []
            ]
            request = OMetaFQNLineageRequest(
                from_entity_fqn=from_fqn,
                from_entity_type=edge["from"]["type"],
                to_entity_fqn=edge["to"]["fqn"],
                to_entity_type=edge["to"]["type"],
                lineage_details=LineageDetails(
                    source=LineageSource.DashboardLineage,
                    columnsLineage=columns or None,
                ),
            )
            yield Either(
                right=OMetaLineageRequest(
                    lineage_request=request,
                    override_lineage=bool(self.source_config.overrideLineage),
                )
            )

    def _lineage_from(self, edge: dict, refs: dict) -> Optional[str]:
        """The upstream end: ours (data models) as given; a warehouse table only when
        OpenMetadata has it, trying the binary's candidates in order, as OpenMetadata's own
        connectors look tables up before drawing lineage."""
        if edge["from"]["type"] != "table":
            return edge["from"]["fqn"]
        for candidate in [edge["from"]["fqn"], *(refs.get("fromCandidates") or [])]:
            if candidate not in self._table_fqns:
                self._table_fqns[candidate] = self.metadata.get_by_name(entity=Table, fqn=candidate) is not None
            if self._table_fqns[candidate]:
                return candidate
        return None

    # -- failures and mark-deleted ----------------------------------------------------

    @staticmethod
    def _left(name: str, error: str) -> Either:
        return Either(left=StackTraceError(name=name, error=error, stackTrace=None))

    def _deletion_blocked(self) -> Optional[str]:
        """Why nothing may be marked deleted in this run, or None when it may."""
        status = self._finish()
        if status is None:
            return f"the Sigma run did not finish ({self._run_error})"
        if not status.get("listingsComplete", False):
            listings = status.get("incompleteListings") or []
            return "listings ended early: " + (", ".join(map(_listing_text, listings)) or "unknown")
        failed = status.get("failedObjects") or []
        if failed:
            return f"{len(failed)} Sigma object(s) failed, e.g. {failed[0].get('kind')} {failed[0].get('id')}"
        if any(step.get("failures") for step in status.get("steps") or []):
            return "the Sigma run reported failures"
        return None

    def _report_run(self) -> Iterable[Either]:
        """The binary's per-object failures, once, as failures in OpenMetadata's status."""
        if self._failures_reported:
            return
        self._failures_reported = True
        status = self._finish()
        if status is None:
            yield self._left("sigma-connector", self._run_error or "the Sigma run did not finish")
            return
        for failed in status.get("failedObjects") or []:
            name = f" ({failed['name']})" if failed.get("name") else ""
            yield self._left(f"{failed.get('kind')} {failed.get('id')}{name}", failed.get("message", "failed"))
        for listing in status.get("incompleteListings") or []:
            yield self._left(
                f"listing {_listing_text(listing)}",
                "the listing ended early; nothing is marked deleted in this run",
            )

    def _guarded(self, what: str, deletions: Iterable[Either]) -> Iterable[Either]:
        reason = self._deletion_blocked()
        if reason is not None:
            logger.warning(f"nothing is marked deleted ({what}): {reason}")
            return
        yield from deletions

    def mark_dashboards_as_deleted(self) -> Iterable[Either]:
        yield from self._report_run()
        yield from self._guarded("dashboards", super().mark_dashboards_as_deleted())

    def mark_datamodels_as_deleted(self) -> Iterable[Either]:
        yield from self._report_run()
        if not self.source_config.includeDataModels:
            # None were read, so none were seen: that is not Sigma deleting them.
            logger.info("includeDataModels is off: no data model is marked deleted")
            return
        yield from self._guarded("data models", super().mark_datamodels_as_deleted())

    def mark_charts_as_deleted(self) -> Iterable[Either]:
        yield from self._report_run()
        yield from self._guarded("charts", super().mark_charts_as_deleted())

    def close(self) -> None:
        if self._run is not None:
            self._run.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        super().close()


def _listing_text(listing) -> str:
    """An entry of the status's ``incompleteListings``: ``{listing, itemsSoFar, pagesSoFar,
    cause}`` (a bare string from older binaries)."""
    if not isinstance(listing, dict):
        return str(listing)
    text = str(listing.get("listing", "?"))
    if "itemsSoFar" in listing:
        text += f" ({listing['itemsSoFar']} item(s) read before it ended"
        text += f": {listing['cause']})" if listing.get("cause") else ")"
    return text
