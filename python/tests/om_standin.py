"""A small OpenMetadata server for the Python tests: it answers what openmetadata-ingestion
2.0.7's framework asks during `metadata ingest` of a dashboard service and during a test
connection automation, and checks every body it receives with OpenMetadata's own pydantic
models. What it cannot answer, or a body that does not validate, is recorded (and answered
400/404) so a test can assert there was none.

Served under /api/v1:
  GET    /system/version                                  version 2.0.7 (major.minor must match)
  GET    /services/dashboardServices/name/{fqn}           404 until created
  PUT    /services/dashboardServices                       CreateDashboardServiceRequest
  PUT    /{charts|dashboards|dashboard/datamodels}/bulk    lists of Create requests; references
                                                           (service, charts, dataModels, owners,
                                                           tags) must exist, as on the server
  GET    /{collection}/name/{fqn}                          charts, dashboards, data models,
                                                           tables, users, teams, tags,
                                                           classifications, automation workflows
  GET    /search/query?q=email.keyword:{email}&index=...   users by email
  PUT    /classifications, /tags                           CreateClassificationRequest, CreateTagRequest
  GET    /lineage/getLineageEdge/{t}/name/{fqn}/{t}/name/{fqn}   404 until drawn
  PUT    /lineage/{t}/name/{fqn}/{t}/name/{fqn}            LineageDetails; both ends must exist
  DELETE /{collection}/deleteStale                         soft-deletes what the run did not see
  PATCH  /automations/workflows/{id}                       JSON patch: /response is a
                                                           TestConnectionResult, /status a WorkflowStatus
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

from metadata.generated.schema.api.classification.createClassification import (
    CreateClassificationRequest,
)
from metadata.generated.schema.api.classification.createTag import CreateTagRequest
from metadata.generated.schema.api.data.createChart import CreateChartRequest
from metadata.generated.schema.api.data.createDashboard import CreateDashboardRequest
from metadata.generated.schema.api.data.createDashboardDataModel import (
    CreateDashboardDataModelRequest,
)
from metadata.generated.schema.api.services.createDashboardService import (
    CreateDashboardServiceRequest,
)
from metadata.generated.schema.entity.automations.workflow import (
    Workflow as AutomationWorkflow,
)
from metadata.generated.schema.entity.automations.workflow import WorkflowStatus
from metadata.generated.schema.entity.classification.classification import Classification
from metadata.generated.schema.entity.classification.tag import Tag
from metadata.generated.schema.entity.data.chart import Chart
from metadata.generated.schema.entity.data.dashboard import Dashboard
from metadata.generated.schema.entity.data.dashboardDataModel import DashboardDataModel
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.services.connections.testConnectionResult import (
    TestConnectionResult,
)
from metadata.generated.schema.entity.services.dashboardService import DashboardService
from metadata.generated.schema.entity.teams.user import User
from metadata.generated.schema.type.entityLineage import LineageDetails

VERSION = "2.0.7"

# collection path -> (entity type name, entity model, create model)
COLLECTIONS = {
    "charts": ("chart", Chart, CreateChartRequest),
    "dashboards": ("dashboard", Dashboard, CreateDashboardRequest),
    "dashboard/datamodels": ("dashboardDataModel", DashboardDataModel, CreateDashboardDataModelRequest),
    "services/dashboardServices": ("dashboardService", DashboardService, CreateDashboardServiceRequest),
    "tables": ("table", Table, None),
    "users": ("user", User, None),
    "teams": ("team", None, None),
    "classifications": ("classification", Classification, CreateClassificationRequest),
    "tags": ("tag", Tag, CreateTagRequest),
    "automations/workflows": ("workflow", AutomationWorkflow, None),
}
BY_TYPE = {entity_type: path for path, (entity_type, _, _) in COLLECTIONS.items()}


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _ref(entity: dict, entity_type: str) -> dict:
    return {
        "id": entity["id"],
        "type": entity_type,
        "name": entity["name"],
        "fullyQualifiedName": entity["fullyQualifiedName"],
    }


class OpenMetadataStandIn:
    """The server's state, inspected by the tests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entities: Dict[str, Dict[str, dict]] = {path: {} for path in COLLECTIONS}
        self.by_id: Dict[str, Tuple[str, str]] = {}
        self.lineage: Dict[Tuple[str, str, str, str], dict] = {}
        self.deleted: List[Tuple[str, str]] = []
        self.patches: List[list] = []
        self.requests: List[Tuple[str, str]] = []
        self.invalid: List[str] = []
        self.unhandled: List[str] = []
        self._server: Optional[ThreadingHTTPServer] = None

    # -- set-up -----------------------------------------------------------------------

    def add_user(self, name: str, email: str) -> dict:
        return self._store("users", {"id": str(uuid.uuid4()), "name": name, "fullyQualifiedName": name, "email": email})

    def add_table(self, fqn: str) -> dict:
        name = fqn.rsplit(".", 1)[-1]
        return self._store(
            "tables",
            {
                "id": str(uuid.uuid4()),
                "name": name,
                "fullyQualifiedName": fqn,
                "columns": [{"name": "ID", "dataType": "INT", "fullyQualifiedName": f"{fqn}.ID"}],
            },
        )

    def add_automation_workflow(self, workflow: dict) -> dict:
        body = dict(workflow)
        body.setdefault("id", str(uuid.uuid4()))
        body.setdefault("fullyQualifiedName", body["name"])
        return self._store("automations/workflows", body)

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    status, body = standin.handle(self.command, self.path, raw)
                except HttpError as err:
                    status, body = err.status, {"code": err.status, "message": err.message}
                except Exception as err:  # a stand-in bug must show, not hang the client
                    standin.invalid.append(f"{self.command} {self.path}: stand-in error {err!r}")
                    status, body = 500, {"code": 500, "message": repr(err)}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/api"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- queries for the tests --------------------------------------------------------

    def live(self, path: str) -> Dict[str, dict]:
        return {fqn: e for fqn, e in self.entities[path].items() if not e.get("deleted")}

    # -- storage ----------------------------------------------------------------------

    def _store(self, path: str, entity: dict) -> dict:
        _, model, _ = COLLECTIONS[path]
        if model is not None:
            # What we answer must parse as OpenMetadata's entity, as the client parses it.
            entity = json.loads(model.model_validate(entity).model_dump_json(exclude_none=True, by_alias=True))
        with self.lock:
            previous = self.entities[path].get(entity["fullyQualifiedName"])
            if previous is not None:
                entity["id"] = previous["id"]
            self.entities[path][entity["fullyQualifiedName"]] = entity
            self.by_id[entity["id"]] = (path, entity["fullyQualifiedName"])
        return entity

    def _get(self, entity_type: str, fqn: str) -> Optional[dict]:
        entity = self.entities[BY_TYPE[entity_type]].get(fqn)
        return entity if entity is not None and not entity.get("deleted") else None

    def _need(self, entity_type: str, fqn: str, what: str) -> dict:
        entity = self._get(entity_type, fqn)
        if entity is None:
            raise HttpError(404, f"{what}: {entity_type} instance for {fqn} not found")
        return entity

    # -- entity building, as the server does from a Create request ---------------------

    def _service_ref(self, name: str, what: str) -> dict:
        return _ref(self._need("dashboardService", name, what), "dashboardService")

    def _build(self, path: str, create: Any) -> dict:
        body = json.loads(create.model_dump_json(exclude_none=True, by_alias=True))
        name = body["name"]
        if path in ("services/dashboardServices", "classifications"):
            return {**body, "id": str(uuid.uuid4()), "fullyQualifiedName": name}
        if path == "tags":
            classification = self._need("classification", body.pop("classification"), f"tag {name}")
            return {
                **body,
                "id": str(uuid.uuid4()),
                "fullyQualifiedName": f"{classification['name']}.{name}",
                "classification": _ref(classification, "classification"),
            }
        service = self._service_ref(body.pop("service"), f"{path} {name}")
        entity: Dict[str, Any] = {
            **body,
            "id": str(uuid.uuid4()),
            "service": service,
        }
        if path == "dashboard/datamodels":
            entity["fullyQualifiedName"] = f"{service['name']}.model.{name}"
            for column in entity.get("columns", []):
                column["fullyQualifiedName"] = f"{entity['fullyQualifiedName']}.{column['name']}"
        else:
            entity["fullyQualifiedName"] = f"{service['name']}.{name}"
        if path == "dashboards":
            entity["charts"] = [_ref(self._need("chart", c, f"dashboard {name}"), "chart") for c in body.get("charts", [])]
            entity["dataModels"] = [
                _ref(self._need("dashboardDataModel", m, f"dashboard {name}"), "dashboardDataModel")
                for m in body.get("dataModels", [])
            ]
        for owner in entity.get("owners", []):
            if owner.get("id") not in self.by_id:
                raise HttpError(404, f"{path} {name}: owner {owner} not found")
        for tag in entity.get("tags", []):
            self._need("tag", tag["tagFQN"], f"{path} {name}")
        return entity

    # -- the routes -------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, raw_body: bytes) -> Tuple[int, Any]:
        url = urlsplit(raw_path)
        path = url.path
        query = parse_qs(url.query)
        self.requests.append((method, path))
        if not path.startswith("/api/v1/"):
            return self._unhandled(method, raw_path)
        path = path[len("/api/v1/") :]
        body = json.loads(raw_body) if raw_body else None

        if method == "GET" and path == "system/version":
            return 200, {"version": VERSION, "revision": "standin", "timestamp": 0}
        if method == "GET" and path == "search/query":
            return 200, self._search(query)
        if path.startswith("lineage/"):
            return self._lineage(method, path[len("lineage/") :], body)
        if method == "PATCH" and path.startswith("automations/workflows/"):
            return self._patch_workflow(path.rsplit("/", 1)[1], body)
        for collection, (entity_type, _model, create_model) in sorted(COLLECTIONS.items(), key=lambda c: -len(c[0])):
            if path == f"{collection}/bulk" and method == "PUT":
                return 200, self._bulk(collection, create_model, body)
            if path == f"{collection}/deleteStale" and method == "DELETE":
                return 200, self._delete_stale(collection, entity_type, body)
            if path.startswith(f"{collection}/name/") and method == "GET":
                fqn = unquote(path[len(f"{collection}/name/") :])
                entity = self.entities[collection].get(fqn)
                if entity is None or entity.get("deleted"):
                    raise HttpError(404, f"{entity_type} instance for {fqn} not found")
                return 200, entity
            if path == collection and method == "PUT" and create_model is not None:
                create = self._validate(create_model, body, f"PUT {collection}")
                return 200, self._store(collection, self._build(collection, create))
        return self._unhandled(method, raw_path)

    def _unhandled(self, method: str, raw_path: str) -> Tuple[int, Any]:
        self.unhandled.append(f"{method} {raw_path}")
        raise HttpError(404, f"the stand-in does not serve {method} {raw_path}")

    def _validate(self, model: Any, body: Any, what: str) -> Any:
        try:
            return model.model_validate(body)
        except Exception as err:
            self.invalid.append(f"{what}: {err}")
            raise HttpError(400, f"{what}: {err}") from None

    def _search(self, query: Dict[str, List[str]]) -> dict:
        q = (query.get("q") or [""])[0]
        index = (query.get("index") or [""])[0]
        hits = []
        if q.startswith("email.keyword:") and index == "user_search_index":
            email = q[len("email.keyword:") :]
            hits = [
                {"_source": {"fullyQualifiedName": fqn}}
                for fqn, user in self.entities["users"].items()
                if user.get("email", "").lower() == email.lower()
            ]
        return {"hits": {"total": {"value": len(hits)}, "hits": hits}}

    def _bulk(self, collection: str, create_model: Any, body: Any) -> dict:
        if not isinstance(body, list):
            self.invalid.append(f"PUT {collection}/bulk: body is not a list")
            raise HttpError(400, "bulk body must be a list")
        passed, failed = [], []
        for item in body:
            create = self._validate(create_model, item, f"PUT {collection}/bulk")
            try:
                self._store(collection, self._build(collection, create))
                passed.append({"request": item["name"], "status": 200})
            except HttpError as err:
                failed.append({"request": item["name"], "message": err.message, "status": err.status})
        return {
            "status": "success" if not failed else "failure",
            "numberOfRowsProcessed": len(body),
            "numberOfRowsPassed": len(passed),
            "numberOfRowsFailed": len(failed),
            "successRequest": passed,
            "failedRequest": failed,
        }

    def _delete_stale(self, collection: str, entity_type: str, body: Any) -> dict:
        required = {"scopeFqn", "scopeEntityType", "seenFqns", "recursive"}
        if not isinstance(body, dict) or set(body) != required:
            self.invalid.append(f"DELETE {collection}/deleteStale: body {body!r}")
            raise HttpError(400, "deleteStale needs scopeFqn, scopeEntityType, seenFqns, recursive")
        if body["scopeEntityType"] != "service":
            self.invalid.append(f"DELETE {collection}/deleteStale: scope {body['scopeEntityType']}")
            raise HttpError(400, "unexpected scope")
        seen = set(body["seenFqns"])
        gone = []
        with self.lock:
            for fqn, entity in self.entities[collection].items():
                if entity["service"]["name"] == body["scopeFqn"] and fqn not in seen and not entity.get("deleted"):
                    entity["deleted"] = True
                    gone.append(fqn)
                    self.deleted.append((entity_type, fqn))
        return {
            "status": "success",
            "numberOfRowsProcessed": len(gone),
            "numberOfRowsPassed": len(gone),
            "numberOfRowsFailed": 0,
            "successRequest": [{"request": fqn, "status": 200} for fqn in gone],
            "failedRequest": [],
        }

    def _lineage_ends(self, rest: str) -> Tuple[str, str, str, str]:
        parts = rest.split("/")
        if len(parts) != 6 or parts[1] != "name" or parts[4] != "name":
            raise HttpError(404, f"bad lineage path {rest}")
        return parts[0], unquote(parts[2]), parts[3], unquote(parts[5])

    def _lineage(self, method: str, rest: str, body: Any) -> Tuple[int, Any]:
        if method == "GET" and rest.startswith("getLineageEdge/"):
            key = self._lineage_ends(rest[len("getLineageEdge/") :])
            edge = self.lineage.get(key)
            if edge is None:
                raise HttpError(404, "no such edge")
            return 200, {"edge": edge}
        if method == "PUT":
            from_type, from_fqn, to_type, to_fqn = key = self._lineage_ends(rest)
            details = self._validate(LineageDetails, body, f"PUT lineage {from_fqn} -> {to_fqn}")
            self._need(from_type, from_fqn, "lineage from")
            self._need(to_type, to_fqn, "lineage to")
            self.lineage[key] = json.loads(details.model_dump_json(exclude_none=True))
            return 200, {}
        return self._unhandled(method, f"/api/v1/lineage/{rest}")

    def _patch_workflow(self, workflow_id: str, body: Any) -> Tuple[int, Any]:
        if workflow_id not in self.by_id:
            raise HttpError(404, f"automation workflow {workflow_id} not found")
        if not isinstance(body, list):
            self.invalid.append("PATCH automation workflow: body is not a JSON patch")
            raise HttpError(400, "not a JSON patch")
        path, fqn = self.by_id[workflow_id]
        workflow = dict(self.entities[path][fqn])
        for op in body:
            if op.get("op") not in ("add", "replace") or op.get("path") not in ("/response", "/status"):
                self.invalid.append(f"PATCH automation workflow: unexpected operation {op}")
                raise HttpError(400, "unexpected patch operation")
            if op["path"] == "/response":
                self._validate(TestConnectionResult, op["value"], "PATCH /response")
            else:
                try:
                    WorkflowStatus(op["value"])
                except ValueError:
                    self.invalid.append(f"PATCH /status: {op['value']!r} is not a WorkflowStatus")
                    raise HttpError(400, "bad workflow status") from None
            workflow[op["path"][1:]] = op["value"]
        self.patches.append(body)
        return 200, self._store(path, workflow)
