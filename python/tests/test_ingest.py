"""`metadata ingest` (OpenMetadata 2.0.7's own CLI) on a `type: CustomDashboard` workflow whose
source is our class, against the sandbox and the OpenMetadata stand-in."""

from __future__ import annotations

import json
import re

from conftest import (
    MARKETING,
    OWNERS,
    SERVICE,
    fixture_records,
    metadata_ingest,
    start_sandbox,
    stop,
    workflow,
)

MARKETING_CHARTS = {r["fqn"] for r in fixture_records("chart") if r["fqn"].startswith(f"{SERVICE}.{MARKETING}_")}


def assert_clean(om) -> None:
    """Every body validated with OpenMetadata's models, every call was one we serve."""
    assert om.invalid == []
    assert om.unhandled == []


def test_every_entity_lineage_owner_and_tag_is_written(tmp_path, sandbox, openmetadata):
    result = metadata_ingest(tmp_path, workflow(openmetadata.url, sandbox), sandbox.client_secret)
    assert result.returncode == 0, result.output[-4000:]
    assert_clean(openmetadata)

    services = openmetadata.live("services/dashboardServices")
    assert list(services) == [SERVICE]
    assert services[SERVICE]["serviceType"] == "CustomDashboard"

    assert set(openmetadata.live("charts")) == {r["fqn"] for r in fixture_records("chart")}
    assert set(openmetadata.live("dashboard/datamodels")) == {r["fqn"] for r in fixture_records("dataModel")}
    dashboards = openmetadata.live("dashboards")
    expected = {r["fqn"]: r for r in fixture_records("dashboard")}
    assert set(dashboards) == set(expected)
    users = {u["id"]: u["name"] for u in openmetadata.live("users").values()}
    by_email = {email: name for name, email in OWNERS.items()}
    for fqn, record in expected.items():
        dashboard = dashboards[fqn]
        # The dashboard names its charts and data models by reference, as the server resolves them.
        assert sorted(c["fullyQualifiedName"] for c in dashboard["charts"]) == sorted(record["entity"].get("charts", []))
        assert sorted(m["fullyQualifiedName"] for m in dashboard["dataModels"]) == sorted(
            record["entity"].get("dataModels", [])
        )
        # Owners resolved by email through OpenMetadata's client.
        owners = sorted(users[o["id"]] for o in dashboard.get("owners", []))
        assert owners == sorted(by_email[e] for e in record["refs"]["owners"]), fqn
        # Sigma tags as tags of the SigmaTags classification.
        tags = sorted(t["tagFQN"] for t in dashboard.get("tags", []))
        assert tags == sorted(f"SigmaTags.{t}" for t in record["refs"].get("tags", [])), fqn
    assert "SigmaTags" in openmetadata.live("classifications")
    assert "SigmaTags.Production" in openmetadata.live("tags")

    # Lineage drawn by FQN, every edge the binary found (tables exist in the stand-in).
    drawn = {(k[1], k[3]) for k in openmetadata.lineage}
    assert drawn == {(r["entity"]["from"]["fqn"], r["entity"]["to"]["fqn"]) for r in fixture_records("lineage")}
    column_edges = [e for e in openmetadata.lineage.values() if e.get("columnsLineage")]
    assert column_edges, "column-level lineage reached OpenMetadata"
    assert all(e["source"] == "DashboardLineage" for e in openmetadata.lineage.values())

    # includeUsage (2.0.7's default) is a warning in OpenMetadata's status, not an error; the
    # fixture org's datasets give the other two: Legacy Shipments' own 410 from the dataset
    # API, and the tables of Orders 2019 and Orphan Dataset whose paths answer 409 and 404.
    assert "includeUsage: Sigma has no usage API" in result.output
    assert "the dataset API answered 410" in result.output
    warnings = re.findall(r"Warnings: (\d+)", result.output)
    assert warnings[:1] == ["3"], [line for line in result.output.splitlines() if "Warning" in line]

    # First run: nothing existed, nothing is deleted.
    assert openmetadata.deleted == []
    # The secret was only ever an environment reference for the binary.
    assert sandbox.client_secret not in result.output
    assert sandbox.client_secret not in json.dumps(openmetadata.entities)
    assert "env:SIGMA_CLIENT_SECRET" in json.dumps(services[SERVICE]["connection"])


def test_gone_dashboards_and_charts_are_deleted_after_complete_listings(tmp_path, sandbox, openmetadata):
    first = metadata_ingest(tmp_path, workflow(openmetadata.url, sandbox), sandbox.client_secret)
    assert first.returncode == 0, first.output[-4000:]
    # Marketing Funnel disappears, and one chart of Quarterly Revenue.
    gone_chart = f"{SERVICE}.a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01_elRevSct008"
    config = workflow(
        openmetadata.url,
        sandbox,
        source_config={
            "dashboardFilterPattern": {"excludes": ["Marketing"]},
            "chartFilterPattern": {"excludes": ["Order Size vs Tenure"]},
        },
    )
    second = metadata_ingest(tmp_path, config, sandbox.client_secret)
    assert second.returncode == 0, second.output[-4000:]
    assert_clean(openmetadata)
    gone_charts = MARKETING_CHARTS | {gone_chart}
    # Each gone chart's columns, carried as a data model of the same name, go with it.
    gone_models = {c.replace(f"{SERVICE}.", f"{SERVICE}.model.", 1) for c in gone_charts}
    assert sorted(openmetadata.deleted) == sorted(
        [("dashboard", f"{SERVICE}.{MARKETING}")]
        + [("chart", c) for c in gone_charts]
        + [("dashboardDataModel", m) for m in gone_models]
    )
    # markDeletedCharts: false keeps charts; data models not read (includeDataModels: false)
    # were not seen, which is not Sigma deleting them.
    openmetadata.deleted.clear()
    config["source"]["sourceConfig"]["config"].update(
        {
            "markDeletedCharts": False,
            "includeDataModels": False,
            "chartFilterPattern": {"excludes": ["Total Revenue"]},
        }
    )
    third = metadata_ingest(tmp_path, config, sandbox.client_secret)
    assert third.returncode == 0, third.output[-4000:]
    assert openmetadata.deleted == []
    assert len(openmetadata.live("dashboard/datamodels")) == len(fixture_records("dataModel")) - len(gone_models)


def test_nothing_is_deleted_after_an_incomplete_listing_or_a_failed_workbook(tmp_path, sandbox, openmetadata):
    first = metadata_ingest(tmp_path, workflow(openmetadata.url, sandbox), sandbox.client_secret)
    assert first.returncode == 0, first.output[-4000:]

    # The same org, but the data model listing is refused: the listing is incomplete, and
    # Marketing Funnel, filtered out, is not deleted.
    broken = start_sandbox("--forbid", "/v2/dataModels")
    try:
        config = workflow(
            openmetadata.url,
            broken,
            source_config={"dashboardFilterPattern": {"excludes": ["Marketing"]}},
        )
        result = metadata_ingest(tmp_path, config, broken.client_secret)
    finally:
        stop(broken.process)
    assert_clean(openmetadata)
    assert openmetadata.deleted == []
    assert "nothing is marked deleted" in result.output
    assert "listing dataModels" in result.output, result.output[-4000:]
    assert f"{SERVICE}.{MARKETING}" in openmetadata.live("dashboards")

    # Marketing Funnel now fails (403 wherever its id is in the path): a failure in
    # OpenMetadata's status, named by kind and id, and nothing is deleted although it was
    # not seen.
    broken = start_sandbox("--forbid", MARKETING)
    try:
        config = workflow(openmetadata.url, broken)
        # OpenMetadata's own threshold decides: at 100 one failure fails the workflow.
        config["workflowConfig"]["successThreshold"] = 100
        result = metadata_ingest(tmp_path, config, broken.client_secret)
    finally:
        stop(broken.process)
    assert_clean(openmetadata)
    assert result.returncode != 0, result.output[-4000:]
    assert f"dashboard {MARKETING} (Marketing Funnel)" in result.output, result.output[-6000:]
    assert "Errors: 1" in result.output
    assert openmetadata.deleted == []
    assert f"{SERVICE}.{MARKETING}" in openmetadata.live("dashboards")
    assert MARKETING_CHARTS <= set(openmetadata.live("charts"))


def test_a_failing_mandatory_test_connection_step_stops_the_ingestion(tmp_path, sandbox, openmetadata):
    result = metadata_ingest(tmp_path, workflow(openmetadata.url, sandbox), "not-the-secret")
    assert result.returncode != 0
    assert "Failed to run the test connection step: GetToken" in result.output, result.output[-4000:]
    assert openmetadata.live("dashboards") == {}
    assert openmetadata.live("charts") == {}


def test_bad_connection_options_stop_the_ingestion_naming_the_key(tmp_path, sandbox, openmetadata):
    config = workflow(openmetadata.url, sandbox, options={"pageSize": "many"})
    result = metadata_ingest(tmp_path, config, sandbox.client_secret)
    assert result.returncode != 0
    assert "connectionOptions.pageSize has a value of the wrong kind" in result.output, result.output[-4000:]
    assert openmetadata.live("dashboards") == {}
