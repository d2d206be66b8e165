"""OpenMetadata's framework runs the sigma-connector binary through this package.

Configure a Custom Dashboard service with
``sourcePythonClass: sigma_connector_om.source.SigmaSource`` (see docs/openmetadata-native.md).
The connection hooks OpenMetadata imports from the class's module, ``get_connection`` and
``test_connection``, live in :mod:`sigma_connector_om.source`.
"""

__version__ = "0.1.0"
