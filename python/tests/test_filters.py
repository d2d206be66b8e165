"""Filter patterns: OpenMetadata 2.0.7's own `_filter` decides every row of the table that
the connector's filter (connector/src/sigma/filter.rs) is tested against, so the two agree,
including an exclude winning over an include."""

from __future__ import annotations

import json

from metadata.generated.schema.type.filterPattern import FilterPattern
from metadata.utils.filters import _filter

from conftest import REPO

TABLE = json.loads((REPO / "tests" / "data" / "filter-cases.json").read_text())


def test_openmetadata_keeps_and_drops_what_the_table_says():
    rows = 0
    for case in TABLE["cases"]:
        pattern = FilterPattern.model_validate(case["pattern"])
        for name, kept in case["names"].items():
            assert (not _filter(pattern, name)) == kept, (case["pattern"], name)
            rows += 1
    assert rows >= 30
