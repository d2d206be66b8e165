"""Side by side on one sandbox org: DataHub 1.7's own Sigma source and sigma-connector's
datahub-file sink. Prints a Markdown table (entities by kind, lineage edges, column pairs,
Sigma requests, wall time) and the URN coverage the issue asks for; `--json` writes the
figures too.

    SIGMA_CONNECTOR_BIN=target/release/sigma-connector \\
      /tmp/dh-venv/bin/python datahub/tools/compare.py --workbooks 60 --data-models 12 --reports 15

Each tool reads its own sandbox started with the same arguments (the generated org is the
same for the same arguments), so each one's request count is its own."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple


def start_sandbox(binary: str, args: List[str]) -> Tuple[subprocess.Popen, Dict[str, str]]:
    proc = subprocess.Popen(
        [binary, "sandbox", "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    values: Dict[str, str] = {}
    assert proc.stdout is not None
    while not {"url", "client_id", "client_secret"} <= values.keys():
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox exited before printing its url")
        key, _, value = line.strip().partition(": ")
        values[key] = value
    values["url"] = values["url"].rstrip("/")
    return proc, values


def requests_made(url: str) -> int:
    with urllib.request.urlopen(f"{url}/__stats", timeout=10) as answer:
        return int(json.load(answer)["totalRequests"])


def run_datahub_source(sandbox: Dict[str, str], out: Path) -> float:
    recipe = {
        "source": {
            "type": "sigma",
            "config": {
                "api_url": f"{sandbox['url']}/v2",
                "client_id": sandbox["client_id"],
                "client_secret": sandbox["client_secret"],
                "ingest_owner": True,
                "extract_lineage": True,
                # The sandbox refuses `typeFilters=data-model` (a 2026 filter value), so no
                # data model gets a workspace from /files; this keeps them anyway.
                "ingest_shared_entities": True,
            },
        },
        "sink": {"type": "file", "config": {"filename": str(out)}},
    }
    path = out.with_suffix(".recipe.json")
    path.write_text(json.dumps(recipe))
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "datahub"), "ingest", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"DataHub's Sigma source failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def run_ours(binary: str, sandbox: Dict[str, str], out: Path) -> float:
    workflow = {
        "source": {
            "type": "sigma",
            "serviceName": "sigma",
            "serviceConnection": {
                "config": {
                    "type": "Sigma",
                    "hostPort": sandbox["url"],
                    "clientId": sandbox["client_id"],
                    "clientSecret": sandbox["client_secret"],
                }
            },
            "sourceConfig": {"config": {"type": "DashboardMetadata", "includeOwners": True}},
        },
        "sink": {"type": "datahub-file", "config": {"filename": str(out)}},
    }
    started = time.monotonic()
    proc = subprocess.run(
        [binary, "ingest", "--config", "-"], input=json.dumps(workflow), capture_output=True, text=True, timeout=1800, check=False
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"sigma-connector failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def figures(mcps: List[dict]) -> Dict[str, object]:
    """What a file of proposals holds, counted the same way for both tools."""
    subtypes: Dict[str, str] = {}
    entities: Dict[str, str] = {}
    inputs = set()
    upstream_edges = set()
    fgl_pairs = set()
    input_fields_lineage = set()
    input_fields_self = set()
    input_fields_chart = set()
    dashboard_fields = set()
    placed = set()
    browse: Dict[str, list] = {}
    for m in mcps:
        urn, aspect, body = m["entityUrn"], m["aspectName"], m.get("aspect", {}).get("json", {})
        entities[urn] = m["entityType"]
        if aspect == "subTypes":
            subtypes[urn] = (body.get("typeNames") or [""])[0]
        elif aspect == "container":
            placed.add((urn, body.get("container")))
        elif aspect == "browsePathsV2":
            browse[urn] = body.get("path", [])
        elif aspect == "chartInfo":
            for i in body.get("inputs") or []:
                inputs.add((urn, i if isinstance(i, str) else i.get("string", str(i))))
            for e in body.get("inputEdges") or []:
                inputs.add((urn, e["destinationUrn"]))
        elif aspect == "upstreamLineage":
            for u in body.get("upstreams", []):
                upstream_edges.add((urn, u["dataset"]))
            for f in body.get("fineGrainedLineages") or []:
                for up in f.get("upstreams") or []:
                    for down in f.get("downstreams") or []:
                        fgl_pairs.add((up, down))
        elif aspect == "inputFields":
            for f in body.get("fields", []):
                field_urn = f["schemaFieldUrn"]
                path = (f.get("schemaField") or {}).get("fieldPath", "")
                # Lineage when the field is a dataset's (a table, a data model element, a
                # dataset) or another chart's (an element reading a sibling element); a
                # chart's own field names no source.
                if urn.startswith("urn:li:dashboard:"):
                    # A page's fields: its charts' input fields, gathered.
                    dashboard_fields.add((urn, field_urn, path))
                elif field_urn.startswith("urn:li:schemaField:(urn:li:dataset:"):
                    input_fields_lineage.add((urn, field_urn, path))
                elif field_urn.startswith(f"urn:li:schemaField:({urn},"):
                    input_fields_self.add((urn, field_urn))
                else:
                    input_fields_chart.add((urn, field_urn))
    kinds = Counter()
    for urn, entity_type in entities.items():
        kinds[f"{entity_type} ({subtypes.get(urn, '-')})"] += 1
    return {
        "kinds": dict(sorted(kinds.items())),
        "urns": entities,
        "subtypes": subtypes,
        "chart_inputs": len(inputs),
        "upstream_edges": len(upstream_edges),
        "fgl_pairs": len(fgl_pairs),
        "fgl_set": fgl_pairs,
        "input_fields_lineage": len(input_fields_lineage),
        "input_fields_self": len(input_fields_self),
        "input_fields_chart": len(input_fields_chart),
        "dashboard_fields": len(dashboard_fields),
        "proposals": len(mcps),
        "placed_set": placed,
        "browse": browse,
    }


def coverage(theirs: Dict[str, object], ours: Dict[str, object], prefix: str, subtype: str = "") -> Tuple[int, int]:
    def pick(f: Dict[str, object]) -> set:
        urns = f["urns"]  # type: ignore[index]
        sub = f["subtypes"]  # type: ignore[index]
        return {u for u in urns if u.startswith(prefix) and (not subtype or sub.get(u) == subtype)}

    their = pick(theirs)
    return len(their & set(ours["urns"])), len(their)  # type: ignore[arg-type]


def compare(binary: str, args: List[str], workdir: Path) -> Dict[str, object]:
    result: Dict[str, object] = {"sandbox": args}
    for who in ("datahub", "ours"):
        proc, sandbox = start_sandbox(binary, args)
        try:
            out = workdir / f"{who}.json"
            before = requests_made(sandbox["url"])
            wall = run_datahub_source(sandbox, out) if who == "datahub" else run_ours(binary, sandbox, out)
            made = requests_made(sandbox["url"]) - before
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        f = figures(json.loads(out.read_text()))
        f["requests"] = made
        f["wall_seconds"] = round(wall, 2)
        result[who] = f
    theirs, ours = result["datahub"], result["ours"]
    result["workbook_dashboards_covered"] = coverage(theirs, ours, "urn:li:dashboard:", "Sigma Workbook")  # type: ignore[arg-type]
    result["charts_covered"] = coverage(theirs, ours, "urn:li:chart:")  # type: ignore[arg-type]
    result["data_model_elements_covered"] = coverage(theirs, ours, "urn:li:dataset:", "Sigma Data Model Element")  # type: ignore[arg-type]
    result["data_model_containers_covered"] = coverage(theirs, ours, "urn:li:container:", "Sigma Data Model")  # type: ignore[arg-type]
    result["workspace_containers_covered"] = coverage(theirs, ours, "urn:li:container:", "Sigma Workspace")  # type: ignore[arg-type]
    # (entity, workspace container) pairs of DataHub's `container` aspects that ours has too.
    workspaces = {u for u, s in theirs["subtypes"].items() if s == "Sigma Workspace"}  # type: ignore[union-attr]
    their_placed = {p for p in theirs["placed_set"] if p[1] in workspaces}  # type: ignore[union-attr]
    result["workspace_placements_covered"] = (len(their_placed & ours["placed_set"]), len(their_placed))  # type: ignore[operator]
    result["workspace_placements_ours"] = sum(1 for p in ours["placed_set"] if p[1] in workspaces)  # type: ignore[union-attr]
    # DataHub's browse paths that start at a workspace container, for entities both write: same path in ours.
    their_paths = {u: p for u, p in theirs["browse"].items() if p and p[0].get("urn") in workspaces and u in ours["browse"]}  # type: ignore[union-attr]
    result["workspace_browse_paths_covered"] = (
        sum(1 for u, p in their_paths.items() if ours["browse"][u] == p),  # type: ignore[index]
        len(their_paths),
    )
    theirs_fgl, ours_fgl = theirs["fgl_set"], ours["fgl_set"]  # type: ignore[index]
    result["fgl_pairs_covered"] = (len(theirs_fgl & ours_fgl), len(theirs_fgl))
    folded = {(u.lower(), d.lower()) for u, d in ours_fgl}
    result["fgl_pairs_covered_ignoring_case"] = (
        sum(1 for u, d in theirs_fgl if (u.lower(), d.lower()) in folded),
        len(theirs_fgl),
    )
    result["report_dashboards_ours"] = sum(1 for s in ours["subtypes"].values() if s == "Sigma Report")  # type: ignore[index,union-attr]
    return result


def table(result: Dict[str, object]) -> str:
    theirs, ours = result["datahub"], result["ours"]
    rows = [("", "DataHub 1.7 Sigma source", "sigma-connector (datahub-file)")]
    for kind in sorted(set(theirs["kinds"]) | set(ours["kinds"])):  # type: ignore[index]
        rows.append((f"entities: {kind}", str(theirs["kinds"].get(kind, 0)), str(ours["kinds"].get(kind, 0))))  # type: ignore[index,union-attr]
    for key, label in [
        ("chart_inputs", "lineage: chart inputs (chart -> dataset)"),
        ("upstream_edges", "lineage: upstreamLineage edges (dataset -> dataset)"),
        ("fgl_pairs", "column pairs: fineGrainedLineages (upstream field, downstream field)"),
        ("input_fields_lineage", "column pairs: inputFields naming a dataset's field"),
        ("input_fields_chart", "column pairs: inputFields naming another chart's field"),
        ("input_fields_self", "inputFields naming the chart's own field (no lineage)"),
        ("dashboard_fields", "page dashboards' inputFields (their charts' fields)"),
        ("proposals", "proposals"),
        ("requests", "Sigma requests"),
        ("wall_seconds", "wall time (s)"),
    ]:
        rows.append((label, str(theirs[key]), str(ours[key])))  # type: ignore[index]
    wb, wb_total = result["workbook_dashboards_covered"]  # type: ignore[misc]
    ch, ch_total = result["charts_covered"]  # type: ignore[misc]
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines.insert(1, "|---|---:|---:|")
    lines.append("")
    lines.append(f"- DataHub's workbook-dashboard URNs also ours: {wb}/{wb_total}")
    lines.append(f"- DataHub's chart URNs also ours: {ch}/{ch_total}")
    dm, dm_total = result["data_model_elements_covered"]  # type: ignore[misc]
    dc, dc_total = result["data_model_containers_covered"]  # type: ignore[misc]
    lines.append(f"- DataHub's data model element URNs also ours: {dm}/{dm_total}; data model containers: {dc}/{dc_total}")
    wc, wc_total = result["workspace_containers_covered"]  # type: ignore[misc]
    wp, wp_total = result["workspace_placements_covered"]  # type: ignore[misc]
    lines.append(
        f"- DataHub's workspace container URNs also ours: {wc}/{wc_total}; its entities placed in a workspace container"
        f" that ours places in the same one: {wp}/{wp_total} (ours places {result['workspace_placements_ours']})"
    )
    bp, bp_total = result["workspace_browse_paths_covered"]  # type: ignore[misc]
    lines.append(f"- DataHub's browse paths starting at a workspace container that ours writes the same: {bp}/{bp_total}")
    fc, fc_total = result["fgl_pairs_covered"]  # type: ignore[misc]
    fi, _ = result["fgl_pairs_covered_ignoring_case"]  # type: ignore[misc]
    lines.append(
        f"- DataHub's fineGrainedLineages column pairs also ours: {fc}/{fc_total} ({fi}/{fc_total} ignoring the case of column names)"
    )
    lines.append(f"- report dashboards (ours only): {result['report_dashboards_ours']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    known, sandbox_args = parser.parse_known_args()
    binary = os.environ.get("SIGMA_CONNECTOR_BIN") or "target/release/sigma-connector"
    with tempfile.TemporaryDirectory() as tmp:
        result = compare(binary, sandbox_args, Path(tmp))
    for who in ("datahub", "ours"):
        result[who].pop("urns")  # type: ignore[union-attr]
        result[who].pop("subtypes")  # type: ignore[union-attr]
        result[who].pop("fgl_set")  # type: ignore[union-attr]
        result[who].pop("placed_set")  # type: ignore[union-attr]
        result[who].pop("browse")  # type: ignore[union-attr]
    print(table(result))
    if known.json:
        known.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
