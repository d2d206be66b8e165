"""Test connection as OpenMetadata's UI runs it: an automation workflow executed by
openmetadata-ingestion 2.0.7's automations runner, which imports our module's
`test_connection` and patches the result into the workflow on the server."""

from __future__ import annotations

import os

from metadata.automations.execute_runner import execute
from metadata.generated.schema.entity.automations.workflow import (
    Workflow as AutomationWorkflow,
)

from conftest import SERVICE


def automation_workflow(om_url: str, sandbox, secret_ref: str) -> dict:
    return {
        "name": "test-connection-sigma",
        "workflowType": "TEST_CONNECTION",
        "status": "Pending",
        "request": {
            "connection": {
                "config": {
                    "type": "CustomDashboard",
                    "sourcePythonClass": "sigma_connector_om.source.SigmaSource",
                    "connectionOptions": {
                        "hostPort": sandbox.url,
                        "clientId": sandbox.client_id,
                        # As the UI stores it: a reference the binary expands.
                        "clientSecret": secret_ref,
                    },
                }
            },
            "serviceType": "Dashboard",
            "connectionType": "CustomDashboard",
            "serviceName": SERVICE,
        },
        "openMetadataServerConnection": {
            "hostPort": om_url,
            "authProvider": "openmetadata",
            "securityConfig": {"jwtToken": "standin-jwt-token"},
        },
    }


def run_automation(openmetadata, sandbox, secret: str) -> dict:
    stored = openmetadata.add_automation_workflow(automation_workflow(openmetadata.url, sandbox, "${SIGMA_CLIENT_SECRET}"))
    os.environ["SIGMA_CLIENT_SECRET"] = secret
    try:
        execute(AutomationWorkflow.model_validate(stored))
    finally:
        del os.environ["SIGMA_CLIENT_SECRET"]
    assert openmetadata.invalid == []
    assert openmetadata.unhandled == []
    return openmetadata.entities["automations/workflows"][stored["fullyQualifiedName"]]


def test_connection_is_patched_successful(sandbox, openmetadata):
    workflow = run_automation(openmetadata, sandbox, sandbox.client_secret)
    assert workflow["status"] == "Successful"
    response = workflow["response"]
    assert response["status"] == "Successful"
    steps = {s["name"]: s for s in response["steps"]}
    assert {"CheckConfig", "GetToken", "GetWorkbooks"} <= set(steps)
    assert all(s["passed"] for s in steps.values() if s["mandatory"])
    # One PATCH: /response and /status together, as OpenMetadata's own connectors do at the end.
    assert len(openmetadata.patches) == 1
    assert {op["path"] for op in openmetadata.patches[0]} == {"/response", "/status"}


def test_connection_is_patched_failed_with_the_reason(sandbox, openmetadata):
    workflow = run_automation(openmetadata, sandbox, "not-the-secret")
    # The test ran to its end (workflow Successful); what it found is a failure.
    assert workflow["status"] == "Successful"
    response = workflow["response"]
    assert response["status"] == "Failed"
    token = next(s for s in response["steps"] if s["name"] == "GetToken")
    assert token["mandatory"] and not token["passed"]
    assert "client ID or client secret" in token["message"]
    assert "not-the-secret" not in str(response)


def test_connection_without_the_binary_is_patched_failed(sandbox, openmetadata, monkeypatch):
    monkeypatch.setenv("SIGMA_CONNECTOR_BIN", "/nonexistent/sigma-connector")
    workflow = run_automation(openmetadata, sandbox, sandbox.client_secret)
    response = workflow["response"]
    assert response["status"] == "Failed"
    assert "SIGMA_CONNECTOR_BIN=/nonexistent/sigma-connector is not an executable file" in response["steps"][0]["message"]
