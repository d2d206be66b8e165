"""sigma-connector for DataHub: a custom source that DataHub's `datahub ingest` loads by class
path (`source: {type: sigma_connector_datahub.source.SigmaSource, config: {...}}`). The
sigma-connector binary does the work (Sigma's API, lineage, state, deletion); this package
runs it with a `datahub-file` sink and hands its metadata change proposals to DataHub's
pipeline, which sends them wherever the recipe's sink says."""

__version__ = "0.1.0"
