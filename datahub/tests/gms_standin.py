"""A stand-in for DataHub's GMS, as far as the REST emitter (and sigma-connector's
`datahub-rest` sink) talks to it: `GET /config`, `POST /aspects?action=ingestProposal` and
`?action=ingestProposalBatch`. Every proposal is checked with DataHub's own models
(`strict_check`) before it is kept; one that does not pass is refused with 422, as GMS
refuses what it cannot deserialize."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.urns import Urn


def _unknown_keys(sent: Any, parsed: Any, path: str = "") -> List[str]:
    """Keys in what was sent that DataHub's model dropped when it read it (fields it does not
    have): `datahub check metadata-file` lets those through, GMS does not."""
    out: List[str] = []
    if isinstance(sent, dict) and isinstance(parsed, dict):
        for key, value in sent.items():
            if key.startswith("com.linkedin.") and key not in parsed:
                # A union member: the model names it by its own (pegasus2avro) namespace.
                members = [k for k in parsed if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]]
                if len(members) == 1:
                    out.extend(_unknown_keys(value, parsed[members[0]], f"{path}/{key}"))
                    continue
            if key not in parsed:
                out.append(f"{path}/{key}")
            else:
                out.extend(_unknown_keys(value, parsed[key], f"{path}/{key}"))
    elif isinstance(sent, list) and isinstance(parsed, list):
        for i, (a, b) in enumerate(zip(sent, parsed)):
            out.extend(_unknown_keys(a, b, f"{path}/{i}"))
    return out


def strict_check(proposal: dict) -> Tuple[str, str, dict]:
    """(urn, aspect name, aspect) of a proposal in either form (file `{json}` or Rest.li
    `{value, contentType}`), or ValueError saying what DataHub's models refuse."""
    obj = copy.deepcopy(proposal)
    aspect = obj.get("aspect") or {}
    if "json" in aspect:
        sent = aspect["json"]
    elif aspect.get("contentType") == "application/json":
        sent = json.loads(aspect["value"])
    else:
        raise ValueError(f"aspect is neither {{json}} nor {{value, contentType}}: {aspect!r}")
    if obj.get("changeType") != "UPSERT":
        raise ValueError(f"changeType {obj.get('changeType')!r}")
    Urn.from_string(obj["entityUrn"])
    mcp = MetadataChangeProposalWrapper.from_obj(copy.deepcopy(obj))
    if not isinstance(mcp, MetadataChangeProposalWrapper) or mcp.aspect is None:
        raise ValueError(f"DataHub has no model for aspect {obj.get('aspectName')!r} of {obj.get('entityType')!r}")
    if not mcp.validate():
        raise ValueError(f"{obj['aspectName']} of {obj['entityUrn']} does not validate")
    if mcp.entityType != obj.get("entityType"):
        raise ValueError(f"entityType {obj.get('entityType')!r} but the URN says {mcp.entityType!r}")
    unknown = _unknown_keys(sent, mcp.aspect.to_obj())
    if unknown:
        raise ValueError(f"{obj['aspectName']} of {obj['entityUrn']}: fields DataHub does not have: {unknown}")
    return obj["entityUrn"], obj["aspectName"], sent


class GmsStandIn:
    def __init__(self, token: Optional[str] = None):
        self.token = token
        #: (urn, aspect name) -> the aspect as last written.
        self.aspects: Dict[Tuple[str, str], dict] = {}
        self.proposals = 0
        self.requests: List[str] = []
        self.refused: List[str] = []
        #: Answer the next N ingest requests with 503 (retries must cover them).
        self.fail_next = 0
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if standin.token is None:
                    return True
                if self.headers.get("Authorization") == f"Bearer {standin.token}":
                    return True
                self._answer(401, {"message": "Unauthorized to perform this action. Please check your token."})
                return False

            def do_GET(self) -> None:
                with standin._lock:
                    standin.requests.append(f"GET {self.path}")
                if not self._authorised():
                    return
                if self.path.split("?")[0].rstrip("/").endswith("/config"):
                    self._answer(200, {"noCode": "true", "versions": {"acryldata/datahub": {"version": "v1.2.0"}}})
                else:
                    self._answer(404, {"message": f"no route {self.path}"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with standin._lock:
                    standin.requests.append(f"POST {self.path}")
                    if standin.fail_next > 0 and "action=ingestProposal" in self.path:
                        standin.fail_next -= 1
                        self._answer(503, {"message": "try again"})
                        return
                if not self._authorised():
                    return
                if self.headers.get("X-RestLi-Protocol-Version") != "2.0.0":
                    self._answer(400, {"message": "X-RestLi-Protocol-Version 2.0.0 expected"})
                    return
                if "action=ingestProposalBatch" in self.path:
                    proposals = body.get("proposals", [])
                elif "action=ingestProposal" in self.path:
                    proposals = [body.get("proposal", {})]
                else:
                    self._answer(404, {"message": f"no route {self.path}"})
                    return
                checked = []
                for p in proposals:
                    try:
                        checked.append(strict_check(p))
                    except Exception as err:  # noqa: BLE001 - every refusal is an answer
                        with standin._lock:
                            standin.refused.append(str(err))
                        self._answer(422, {"message": f"Failed to validate proposal: {err}", "status": 422})
                        return
                with standin._lock:
                    for urn, name, aspect in checked:
                        standin.aspects[(urn, name)] = aspect
                    standin.proposals += len(checked)
                self._answer(200, {"value": [p.get("entityUrn") for p in proposals]})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def removed(self) -> List[str]:
        return sorted(u for (u, n), a in self.aspects.items() if n == "status" and a.get("removed"))

    def live(self, prefix: str = "") -> List[str]:
        return sorted(
            u for (u, n), a in self.aspects.items() if n == "status" and not a.get("removed") and u.startswith(prefix)
        )
