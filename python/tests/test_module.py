"""The module's own pieces: connectionOptions, finding the binary, the record grouping, and
the 2.0.7 copies the Rust contract test compares against."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from metadata.generated.schema.entity.services.connections.dashboard.customDashboardConnection import (
    CustomDashboardConnection,
)

from conftest import FIXTURE_RECORDS, REPO, fixture_records
from conftest import binary as binary_path
from sigma_connector_om import binary
from sigma_connector_om.connection import ConnectionOptionsError, sigma_connection
from sigma_connector_om.source import RecordStream


def custom(options: dict, **extra) -> CustomDashboardConnection:
    return CustomDashboardConnection.model_validate(
        {"type": "CustomDashboard", "sourcePythonClass": "x.Y", "connectionOptions": options, **extra}
    )


BASE = {"hostPort": "https://aws-api.sigmacomputing.com", "clientId": "id", "clientSecret": "${SIGMA_CLIENT_SECRET}"}


def test_connection_options_become_a_typed_sigma_connection():
    conn = sigma_connection(
        custom(
            {
                **BASE,
                "pageSize": "500",
                "requestsPerSecond": "2.5",
                "allowInsecureHttp": "false",
                "connectionServiceMap": '{"conn-1": "snowflake_prod"}',
            },
            dashboardFilterPattern={"includes": ["^Sales"]},
        )
    )
    assert conn == {
        "type": "Sigma",
        **BASE,
        "pageSize": 500,
        "requestsPerSecond": 2.5,
        "allowInsecureHttp": False,
        "connectionServiceMap": {"conn-1": "snowflake_prod"},
        "dashboardFilterPattern": {"includes": ["^Sales"]},
    }
    # Both reference forms reach the binary as its own ${VAR}, unexpanded.
    assert sigma_connection(custom({**BASE, "clientSecret": "env:MY_SECRET"}))["clientSecret"] == "${MY_SECRET}"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"hostPort": "https://x"}, "connectionOptions must set clientId, clientSecret"),
        ({**BASE, "colour": "blue"}, "connectionOptions.colour is not a Sigma connection setting"),
        ({**BASE, "maxRetries": "lots"}, "connectionOptions.maxRetries has a value of the wrong kind: expected integer"),
        ({**BASE, "clientSecret": "env:not a name"}, "connectionOptions.clientSecret has a value of the wrong kind"),
        ({**BASE, "connectionServiceMap": "[1]"}, "connectionOptions.connectionServiceMap has a value of the wrong kind"),
    ],
)
def test_bad_connection_options_name_the_key_and_never_echo_a_value(options, message):
    with pytest.raises(ConnectionOptionsError) as err:
        sigma_connection(custom(options))
    assert message in str(err.value)
    assert "lots" not in str(err.value)


def test_the_connection_handle_never_shows_the_secret():
    from sigma_connector_om.source import SigmaBinary

    handle = SigmaBinary(path="/bin/x", connection=sigma_connection(custom({**BASE, "clientSecret": "s3cr3t-value"})))
    assert "s3cr3t-value" not in repr(handle)
    assert "s3cr3t-value" not in str(handle)


def test_the_binary_is_found_through_the_environment_or_said_missing(monkeypatch, tmp_path):
    monkeypatch.setenv(binary.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(binary.BinaryNotFound, match="is not an executable file"):
        binary.find_binary()
    monkeypatch.delenv(binary.ENV_VAR)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(binary.sysconfig, "get_path", lambda _name: str(tmp_path))
    monkeypatch.setattr(binary.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(binary.BinaryNotFound, match="install the sigma-connector wheel"):
        binary.find_binary()
    installed = tmp_path / binary.BINARY_NAME
    installed.write_text("#!/bin/sh\n")
    installed.chmod(0o755)
    assert binary.find_binary() == str(installed)


def _binary_records(sandbox, tmp_path) -> list:
    """The fixture org as the binary writes it (each line with its group), under the
    options that wrote the golden `tests/data/fixture-org.jsonl`."""
    out = tmp_path / "out.jsonl"
    workflow = {
        "source": {
            "type": "sigma",
            "serviceName": "sigma_sandbox",
            "serviceConnection": {
                "config": {
                    "type": "Sigma",
                    "hostPort": sandbox.url,
                    "clientId": sandbox.client_id,
                    "clientSecret": sandbox.client_secret,
                }
            },
            "sourceConfig": {
                "config": {"includeOwners": True, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}}
            },
        },
        "sink": {"type": "file", "config": {"filename": str(out)}},
    }
    config = tmp_path / "workflow.json"
    config.write_text(json.dumps(workflow), encoding="utf-8")
    proc = subprocess.run([binary_path(), "ingest", "-c", str(config)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_records_are_grouped_as_the_topology_consumes_them(sandbox, tmp_path):
    records = _binary_records(sandbox, tmp_path)
    golden = [json.loads(line) for line in FIXTURE_RECORDS.read_text(encoding="utf-8").splitlines()]
    assert [{k: v for k, v in r.items() if k != "group"} for r in records] == golden
    assert all(isinstance(r.get("group"), dict) for r in records)
    stream = RecordStream(iter(records))
    models = list(stream.data_models())
    dashboards = fixture_records("dashboard")
    element_models = {
        m for d in dashboards for m in d["entity"].get("dataModels", []) if m.startswith(f"{d['fqn'].split('.')[0]}.model.{d['entity']['name']}_")
    }
    assert [m["fqn"] for m in models[:-1]] == [
        r["fqn"] for r in fixture_records("dataModel") if r["fqn"] not in element_models
    ]
    model_lineage = models[-1].lineage
    assert all(r["entity"]["to"]["type"] == "dashboardDataModel" for r in model_lineage)
    workbooks = list(stream.workbooks())
    assert [w.dashboard["fqn"] for w in workbooks] == [r["fqn"] for r in fixture_records("dashboard")]
    for w in workbooks:
        # Each workbook's charts are the ones its dashboard lists; its lineage ends at it.
        assert [c["fqn"] for c in w.charts] == w.dashboard["entity"].get("charts", [])
        # Its elements' data models are listed by its dashboard; its lineage ends at them or it.
        own = [m["fqn"] for m in w.data_models]
        assert set(own) <= set(w.dashboard["entity"].get("dataModels", []))
        assert all(m in element_models for m in own)
        assert all(r["entity"]["to"]["fqn"] in [w.dashboard["fqn"], *own] for r in w.lineage)
    assert sum(len(w.data_models) for w in workbooks) == len(element_models)
    assert sum(len(w.lineage) for w in workbooks) + len(model_lineage) == len(fixture_records("lineage"))


def test_the_committed_2_0_7_copies_match_the_installed_package():
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", str(REPO / "python" / "tools" / "export_om_2_0_7.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_module_is_python_3_10_syntax():
    """OpenMetadata's ingestion image runs Python 3.10."""
    import ast

    sources = sorted((REPO / "python" / "src" / "sigma_connector_om").glob("*.py"))
    assert sources
    for path in sources:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 10))
