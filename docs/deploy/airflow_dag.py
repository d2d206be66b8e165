"""An Airflow DAG running one Sigma ingestion a night with the sigma-connector binary.

The credentials come from Airflow Variables (or a secrets backend) into the task's
environment; the task fails, and Airflow alerts, on any non-zero exit code.
"""

import pendulum
from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator

with DAG(
    dag_id="sigma_connector_ingest",
    schedule="17 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # two runs must never share a state file
    tags=["openmetadata", "sigma"],
) as dag:
    BashOperator(
        task_id="ingest",
        bash_command=(
            "sigma-connector --log-format json ingest"
            " -c /opt/sigma-connector/workflow.yaml"
            " --state /var/lib/sigma-connector/state.json"
            " --status-file /var/lib/sigma-connector/status.json"
        ),
        env={
            "SIGMA_CLIENT_ID": Variable.get("sigma_client_id"),
            "SIGMA_CLIENT_SECRET": Variable.get("sigma_client_secret"),
            "OM_JWT": Variable.get("openmetadata_jwt"),
        },
        append_env=True,  # keep PATH and the rest of the worker's environment
        retries=0,  # a failed run is reported; the next scheduled run starts afresh
        execution_timeout=pendulum.duration(hours=2),
    )
