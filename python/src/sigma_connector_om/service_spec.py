"""OpenMetadata's service-spec lookup, answered for Custom Dashboard services.

OpenMetadata 2.0.7's ``DashboardServiceSource.__init__`` asks
``metadata.ingestion.source.connections._get_connection_class_from_spec`` four times (building
the client, then testing the connection) for the connection class of the service's type. It
finds specs through the ``SourceLoader`` of its dependency container, whose default imports
``metadata.ingestion.source.dashboard.customdashboard.service_spec``: a module no custom
connector has, so every run, good or bad, printed four times
``ERROR ... Error importing connection class for CustomDashboard`` and then went on exactly as
if the spec had said "no connection class" (the legacy ``get_connection``/``test_connection``
of the source's module, which this package provides).

The container is the framework's documented extension point (``container.override``), so
this module installs a loader that answers the ``customdashboard`` lookup with that spec, no
connection class, and hands every other lookup to the loader that was there before. The run
does what it did; the log no longer says ERROR about it.
"""

from __future__ import annotations

from typing import Any, Optional

from metadata.generated.schema.entity.services.serviceType import ServiceType
from metadata.utils.dependency_injector.dependency_injector import DependencyContainer
from metadata.utils.service_spec.service_spec import (
    BaseSpec,
    DefaultSourceLoader,
    SourceLoader,
)

#: How OpenMetadata spells the source type of a Custom Dashboard service in the lookup.
CUSTOM_DASHBOARD = "customdashboard"

#: What a Custom Dashboard service's spec says: the source class (custom workflows import
#: ``sourcePythonClass`` themselves and never read this) and no connection class.
CUSTOM_DASHBOARD_SPEC = BaseSpec(metadata_source_class="sigma_connector_om.source.SigmaSource")


class CustomDashboardSpecLoader(SourceLoader):
    """A ``SourceLoader`` that knows the Custom Dashboard spec and asks ``fallback`` (the
    loader in place before it) for everything else."""

    def __init__(self, fallback: SourceLoader):
        self.fallback = fallback

    def __call__(self, service_type: ServiceType, source_type: str, from_: str = "ingestion") -> Any:
        if service_type == ServiceType.Dashboard and source_type == CUSTOM_DASHBOARD:
            return CUSTOM_DASHBOARD_SPEC
        return self.fallback(service_type, source_type, from_)


def install() -> None:
    """Puts the loader in OpenMetadata's container, once per process (idempotent)."""
    container = DependencyContainer()
    # The container holds factories and `get` calls them: this is the loader in use.
    current: Optional[SourceLoader] = container.get(SourceLoader)
    if isinstance(current, CustomDashboardSpecLoader):
        return
    loader = CustomDashboardSpecLoader(current or DefaultSourceLoader())
    container.override(SourceLoader, lambda: loader)
