"""Export what the Rust contract tests compare against, from openmetadata-ingestion 2.0.7.

Writes into tests/data/openmetadata/2.0.7/:
  dashboardServiceMetadataPipeline.json  the pydantic JSON Schema of 2.0.7's sourceConfig.config
  sigmaConnection.json                   the same for its SigmaConnection
  workflow.json                          the field names (and required ones) of the workflow's
                                         top level, its source and its workflowConfig
  sigma-workflow.json                    a Sigma workflow exactly as 2.0.7 serialises it, every
                                         source-config field present at its 2.0.7 default

  usage: VENV/bin/python python/tools/export_om_2_0_7.py [--check]

With --check nothing is written: the run fails when the committed files differ from what the
installed package produces (the Python tests run this, so the copies cannot drift).
"""

import json
import sys
from pathlib import Path

from metadata.generated.schema.entity.services.connections.dashboard.sigmaConnection import (
    SigmaConnection,
)
from metadata.generated.schema.metadataIngestion.dashboardServiceMetadataPipeline import (
    DashboardServiceMetadataPipeline,
)
from metadata.generated.schema.metadataIngestion.workflow import (
    OpenMetadataWorkflowConfig,
    Source,
    WorkflowConfig,
)

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "openmetadata" / "2.0.7"


def sigma_workflow() -> dict:
    config = OpenMetadataWorkflowConfig.model_validate(
        {
            "source": {
                "type": "sigma",
                "serviceName": "local_sigma",
                "serviceConnection": {
                    "config": {
                        "type": "Sigma",
                        "hostPort": "https://api.sigmacomputing.com",
                        "clientId": "client_id",
                        "clientSecret": "client_secret",
                    }
                },
                "sourceConfig": {"config": {"type": "DashboardMetadata"}},
            },
            "sink": {"type": "metadata-rest", "config": {}},
            "workflowConfig": {
                "loggerLevel": "INFO",
                "openMetadataServerConfig": {
                    "hostPort": "http://localhost:8585/api",
                    "authProvider": "openmetadata",
                    "securityConfig": {"jwtToken": "jwt-token"},
                },
            },
            "ingestionPipelineFQN": "local_sigma.metadata_pipeline",
            "pipelineRunId": "5f0c6b2e-8d4a-4b1e-9f3a-2c7d1e0b9a11",
            "enableStreamableLogs": False,
        }
    )
    dumped = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    # The secret is dumped masked; an unchanged file carries the real value.
    dumped["source"]["serviceConnection"]["config"]["clientSecret"] = "client_secret"
    dumped["workflowConfig"]["openMetadataServerConfig"]["securityConfig"]["jwtToken"] = "jwt-token"
    return dumped


def fields(model) -> dict:
    """Field names and which are required: the whole schemas embed every connector's."""
    return {
        "properties": sorted(f.alias or name for name, f in model.model_fields.items()),
        "required": sorted(f.alias or name for name, f in model.model_fields.items() if f.is_required()),
    }


def documents() -> dict:
    return {
        "dashboardServiceMetadataPipeline.json": DashboardServiceMetadataPipeline.model_json_schema(),
        "sigmaConnection.json": SigmaConnection.model_json_schema(),
        "workflow.json": {
            name: fields(model)
            for name, model in [
                ("OpenMetadataWorkflowConfig", OpenMetadataWorkflowConfig),
                ("Source", Source),
                ("WorkflowConfig", WorkflowConfig),
            ]
        },
        "sigma-workflow.json": sigma_workflow(),
    }


def render(doc) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for name, doc in documents().items():
        path = OUT / name
        text = render(doc)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date with openmetadata-ingestion 2.0.7 (run python/tools/export_om_2_0_7.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
