"""DataHub's own Sigma source and ours on the same sandbox org (the issue's 2026 org):
at least 95% of its workbook-dashboard and chart URNs are ours too, ours adds the report
dashboards, our column-level lineage is at least as rich, and the workspace containers are
DataHub's own."""

from __future__ import annotations

from pathlib import Path

from compare import compare, table
from conftest import ORG_2026, binary


def test_ours_covers_datahubs_sigma_source_and_adds_reports_and_column_lineage(tmp_path: Path) -> None:
    result = compare(binary(), list(ORG_2026), tmp_path)
    print(table(result))
    covered, total = result["workbook_dashboards_covered"]
    assert total > 0 and covered >= 0.95 * total, (covered, total)
    covered, total = result["charts_covered"]
    assert total > 0 and covered >= 0.95 * total, (covered, total)
    assert result["report_dashboards_ours"] == 15
    theirs, ours = result["datahub"], result["ours"]
    assert ours["fgl_pairs"] + ours["input_fields_lineage"] >= theirs["fgl_pairs"] + theirs["input_fields_lineage"]
    assert ours["requests"] < theirs["requests"]
    covered, total = result["data_model_elements_covered"]
    assert covered == total, (covered, total)
    covered, total = result["fgl_pairs_covered_ignoring_case"]
    assert covered == total, (covered, total)
    # Workspace containers: the same URNs, what DataHub's source puts in one ours puts in the
    # same one, and the browse paths that start at one are the same.
    for key in ("workspace_containers_covered", "workspace_placements_covered", "workspace_browse_paths_covered"):
        covered, total = result[key]
        assert total > 0 and covered == total, (key, covered, total)
