"""P1 side by side: OpenMetadata 2.0.7's Sigma client and our release binary, in one run,
against one sandbox (docs/performance.md, "Phases that overlap", P1 against OpenMetadata).

    cargo build --release --locked --bin sigma-connector
    ../shared/reference/openmetadata-ingestion/install.sh /tmp/om-venv   # or any OM 2.0.7 venv
    /tmp/om-venv/bin/python -W ignore python/tools/om_peer_p1.py [--rounds 2] [--parse-sql]

It starts `target/release/sigma-connector sandbox` with P1's org (100 workbooks x 3 pages x 6
elements, 20 datasets, 10 data models, 10 reports: the org of `cargo bench --bench
ingest_scale -- --workbooks 100 --latency-ms 25`) and 25 ms per request, then alternates, ROUNDS
times: (a) OpenMetadata's Sigma client (`SigmaApiClient` of
`metadata/ingestion/source/dashboard/sigma/client.py`) making the Sigma requests its
`metadata.py` source makes in one ingestion, and (b) our binary's `ingest` with a file sink
(`maxConcurrency` 16, the default). Requests are counted by the sandbox (`GET /__stats`, the
difference over each run, per route).

OpenMetadata's full workflow needs an OpenMetadata server (its source looks entities up there
between Sigma calls), so (a) replays its Sigma calls in its order, with its own client and
pydantic models, assuming every OpenMetadata look-up succeeds (the data model entity exists,
so per-element file lineage is asked where `/queries` has no SQL). What it leaves out, and so
what makes its time a lower bound of a real run: the OpenMetadata server's round trips, its
sink, building its records and (unless `--parse-sql`) parsing each element's SQL with its
`LineageParser`; its Python start-up is not timed either (importing its Sigma source
module takes ~12 s on the shared 2-core machine). The sequence,
from `DashboardServiceSource.__init__` and the dashboard topology:

  test connection (source creation): POST /auth/token, GET /workbooks twice
  get_dashboards: GET /workbooks (twice: the first call's result is discarded), then each nextPage
  per workbook: GET /workbooks/{id}                          (get_dashboard_details)
                yield_dashboard_chart: GET /pages, GET /pages/{p}/elements per page
                yield_datamodel (includeDataModels, default on): the same again
                yield_dashboard: GET /members/{ownerId} if includeOwners (off, as in P1)
                yield_dashboard_lineage, per dbServicePrefix: GET /queries; per element with a
                  vizualizationType and no SQL: GET /lineage/elements/{e}, GET /files/{node}
                  per edge not in dependencies (all of it per element if /queries is empty)

The sandbox is started with `--numeric-page-tokens`: OpenMetadata's client pages with
`int(nextPage)`, which fails on opaque tokens (it would then stop after the first 50 of 100
workbooks). Our connector accepts both; the request count is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def stats(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/__stats") as resp:
        return json.load(resp)


def delta(before: dict, after: dict) -> tuple[int, Counter]:
    routes = Counter(after["requestsByRoute"])
    routes.subtract(before["requestsByRoute"])
    routes = Counter({k: v for k, v in routes.items() if v})
    return after["totalRequests"] - before["totalRequests"], routes


def start_sandbox(binary: str, args) -> tuple[subprocess.Popen, dict]:
    cmd = [
        binary, "sandbox", "--port", "0",
        "--workbooks", str(args.workbooks), "--pages", str(args.pages),
        "--elements", str(args.elements), "--latency-ms", str(args.latency_ms),
        "--numeric-page-tokens",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = {}
    for line in proc.stdout:
        key, _, value = line.strip().partition(": ")
        info[key] = value
        if "client_secret" in info:
            break
    if "url" not in info:
        proc.kill()
        sys.exit(f"sandbox did not start: {info}")
    return proc, {"cmd": " ".join(cmd), **info}


def om_run(base: str, client_id: str, client_secret: str, prefixes: list[str], parse_sql: bool) -> dict:
    """One ingestion's worth of OpenMetadata's Sigma calls, in its source's order."""
    from metadata.generated.schema.entity.services.connections.dashboard.sigmaConnection import (
        SigmaConnection,
    )
    from metadata.generated.schema.metadataIngestion.dashboardServiceMetadataPipeline import (
        DashboardServiceMetadataPipeline,
    )
    from metadata.ingestion.source.dashboard.sigma.client import SigmaApiClient

    if parse_sql:  # imported here, not in the timed loop
        from metadata.ingestion.lineage.models import Dialect
        from metadata.ingestion.lineage.parser import LineageParser

    source_config = DashboardServiceMetadataPipeline.model_validate(
        {"lineageInformation": {"dbServicePrefixes": prefixes}}
    )
    counts = Counter()
    started = time.perf_counter()
    client = SigmaApiClient(SigmaConnection(hostPort=base, clientId=client_id, clientSecret=client_secret))
    # DashboardServiceSource.__init__ -> test_connection: GetToken, GetWorkbooks
    client.get_auth_token()
    client.test_get_dashboards()
    workbooks = client.get_dashboards() or []
    counts["workbooks"] = len(workbooks)
    for workbook in workbooks:
        details = client.get_dashboard_detail(workbook.workbookId)
        if not details:
            continue
        charts = client.get_chart_details(details.workbookId)
        counts["charts"] += len(charts or [])
        data_models = client.get_chart_details(details.workbookId) if source_config.includeDataModels else []
        data_models = data_models or []
        counts["data models"] += sum(1 for e in data_models if e.vizualizationType)
        if source_config.includeOwners and details.ownerId:
            client.get_owner_detail(details.ownerId)
        for _prefix in source_config.lineageInformation.dbServicePrefixes or [None]:
            queries = client.get_workbook_queries(details.workbookId)
            by_element = {q.elementId: q for q in (queries.entries if queries else None) or []}
            for element in data_models:
                if not element.vizualizationType:
                    continue
                query = by_element.get(element.elementId)
                if by_element and query and query.sql:
                    if parse_sql:
                        counts["sql tables"] += len(LineageParser(query.sql, Dialect.ANSI).source_tables or [])
                    continue
                nodes = client.get_lineage_details(details.workbookId, element.elementId)
                counts["file lineage nodes"] += len(nodes or [])
    wall = time.perf_counter() - started
    client.client.close()
    client.token_client.close()
    return {"wall": wall, "counts": dict(counts)}


def ours_run(binary: str, base: str, client_id: str, client_secret: str, prefixes: list[str], concurrency: int):
    work = Path(tempfile.mkdtemp(prefix="om-peer-p1-"))
    workflow = {
        "source": {
            "type": "sigma",
            "serviceName": "p1",
            "serviceConnection": {
                "config": {
                    "type": "Sigma",
                    "hostPort": base,
                    "clientId": client_id,
                    "clientSecret": client_secret,
                    "maxConcurrency": concurrency,
                }
            },
            "sourceConfig": {"config": {"lineageInformation": {"dbServicePrefixes": prefixes}}},
        },
        "sink": {"type": "file", "config": {"filename": str(work / "out.jsonl")}},
        "workflowConfig": {"loggerLevel": "WARN"},
    }
    (work / "workflow.json").write_text(json.dumps(workflow))
    started = time.perf_counter()
    rc = subprocess.call(
        [binary, "--log-level", "warn", "ingest", "-c", str(work / "workflow.json"), "--status-file", str(work / "status.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    if rc != 0:
        sys.exit(f"ingest exited {rc}; see {work}")
    status = json.loads((work / "status.json").read_text())
    records = status["steps"][1]["processed"]
    shutil.rmtree(work)
    return {"wall": wall, "counts": {"records": records}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=str(REPO / "target/release/sigma-connector"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workbooks", type=int, default=100)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--elements", type=int, default=6)
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--parse-sql", action="store_true", help="time OpenMetadata's LineageParser on each element's SQL too")
    parser.add_argument("--routes", action="store_true", help="print each run's requests per route")
    args = parser.parse_args()
    prefixes = ["warehouse"]

    sandbox, info = start_sandbox(args.bin, args)
    base, cid, secret = info["url"], info["client_id"], info["client_secret"]
    print(f"sandbox: {info['cmd']}")
    print(f"git: {subprocess.run(['git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    results = {"openmetadata": [], "ours": []}
    routes = {}
    try:
        for round_ in range(1, args.rounds + 1):
            for who in ("openmetadata", "ours"):
                before = stats(base)
                if who == "openmetadata":
                    run = om_run(base, cid, secret, prefixes, args.parse_sql)
                else:
                    run = ours_run(args.bin, base, cid, secret, prefixes, args.concurrency)
                run["requests"], run["routes"] = delta(before, stats(base))
                results[who].append(run)
                routes[who] = run["routes"]
                print(f"round {round_} {who:>12}: {run['wall']:7.2f} s  {run['requests']:>5} requests  {run['counts']}", flush=True)
                if args.routes:
                    for route, n in sorted(run["routes"].items()):
                        print(f"      {n:>5}  {route}")
    finally:
        sandbox.terminate()
        sandbox.wait()
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    om = [r["wall"] for r in results["openmetadata"]]
    us = [r["wall"] for r in results["ours"]]
    print()
    print("| client | wall s | requests | requests in flight |")
    print("|---|---:|---:|---:|")
    print(f"| OpenMetadata 2.0.7 `SigmaApiClient` (replayed) | {', '.join(f'{w:.2f}' for w in om)} | "
          f"{', '.join(str(r['requests']) for r in results['openmetadata'])} | 1 |")  # fmt: skip
    print(f"| sigma-connector `ingest` ({Path(args.bin).parent.name}) | {', '.join(f'{w:.2f}' for w in us)} | "
          f"{', '.join(str(r['requests']) for r in results['ours'])} | up to {args.concurrency} |")  # fmt: skip
    print(f"ratio (OpenMetadata / ours): {min(om) / max(us):.1f}x to {max(om) / min(us):.1f}x, "
          f"round by round {', '.join(f'{o / u:.1f}x' for o, u in zip(om, us))}")  # fmt: skip
    print()
    print("requests per route (last round):")
    names = sorted(set(routes["openmetadata"]) | set(routes["ours"]))
    print("| route | OpenMetadata | ours |")
    print("|---|---:|---:|")
    for name in names:
        print(f"| `{name}` | {routes['openmetadata'].get(name, 0)} | {routes['ours'].get(name, 0)} |")


if __name__ == "__main__":
    main()
