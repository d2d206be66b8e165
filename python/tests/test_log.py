"""What OpenMetadata's own `metadata ingest` prints around this connector: only what is true.

OpenMetadata 2.0.7 looked up a service spec for `CustomDashboard` four times per run and logged
`ERROR ... Error importing connection class for CustomDashboard` each time, on good runs and bad
ones alike; the package now answers that lookup (sigma_connector_om/service_spec.py)."""

from conftest import metadata_ingest, workflow

SPEC_ERROR = "Error importing connection class"


def error_lines(output: str) -> list:
    return [line for line in output.splitlines() if " ERROR " in line or line.startswith("ERROR")]


def test_a_good_run_logs_no_error_at_all(tmp_path, sandbox, openmetadata):
    result = metadata_ingest(tmp_path, workflow(openmetadata.url, sandbox), sandbox.client_secret)
    assert result.returncode == 0, result.output[-4000:]
    assert SPEC_ERROR not in result.output
    assert error_lines(result.output) == []


def test_a_failing_run_logs_its_own_error_not_the_spec_lookup(tmp_path, sandbox, openmetadata):
    result = metadata_ingest(tmp_path, workflow(openmetadata.url, sandbox), "not-the-secret")
    assert result.returncode != 0, result.output[-4000:]
    assert SPEC_ERROR not in result.output
    assert "client" in result.output.lower(), result.output[-4000:]


def test_the_spec_loader_answers_custom_dashboard_and_passes_on_the_rest():
    from metadata.generated.schema.entity.services.serviceType import ServiceType
    from metadata.utils.dependency_injector.dependency_injector import DependencyContainer
    from metadata.utils.service_spec.service_spec import BaseSpec, SourceLoader

    from sigma_connector_om import service_spec

    service_spec.install()
    service_spec.install()  # idempotent: one loader, not a chain of them
    loader = DependencyContainer().get(SourceLoader)
    assert isinstance(loader, service_spec.CustomDashboardSpecLoader)
    assert not isinstance(loader.fallback, service_spec.CustomDashboardSpecLoader)
    spec = BaseSpec.get_for_source(ServiceType.Dashboard, "customdashboard")
    assert spec.connection_class is None
    # OpenMetadata's own connectors still get their own specs (its Sigma connector's
    # dependencies are in every install).
    sigma = BaseSpec.get_for_source(ServiceType.Dashboard, "sigma")
    assert sigma.metadata_source_class.startswith("metadata.ingestion.source.dashboard.sigma.")
