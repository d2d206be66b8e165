//! Which of Sigma's API surfaces the sandbox serves: today's (the 2026 spec's metadata paths)
//! or the older one that a deployment from before the workbook-level calls, reports and the
//! data model lineage answers.

use std::fmt;
use std::str::FromStr;

/// The API surface served. The choice is read in one place per difference: the gate (routes
/// only today's surface has answer 404 on the older one) and the few handlers whose shapes
/// changed (members, data model elements and columns, dataset-backed queries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiSurface {
    /// Sigma as of 2026: reports, workbook- and data-model-level lineage, sources, columns,
    /// tags; members and teams page only; column `type` objects; datasets retired as a source.
    #[default]
    Current,
    /// Sigma as of 2023 (spec 2.0.0): the routes above answer 404, `/v2/members` and
    /// `/v2/teams` answer a bare array without `limit`, dataset-backed elements keep their SQL,
    /// element columns have no `type`, data model sources no `custom-sql` variant.
    Legacy2023,
}

/// Route templates only today's surface serves (the older one answers 404 there): the 2026
/// subset's paths that spec 2.0.0 does not have. Data model `/elements` and `/columns` are
/// not in 2.0.0 either but the sandbox served them before, so both surfaces keep them.
pub const CURRENT_ONLY_ROUTES: &[&str] = &[
    "/v2/workbooks/{workbookId}/elements",
    "/v2/workbooks/{workbookId}/lineage",
    "/v2/workbooks/{workbookId}/columns",
    "/v2/reports",
    "/v2/reports/{reportId}",
    "/v2/reports/{reportId}/pages",
    "/v2/reports/{reportId}/pages/{pageId}/elements",
    "/v2/reports/{reportId}/elements",
    "/v2/reports/{reportId}/elements/{elementId}/columns",
    "/v2/reports/{reportId}/elements/{elementId}/query",
    "/v2/reports/{reportId}/lineage",
    "/v2/reports/{reportId}/lineage/elements/{elementId}",
    "/v2/reports/{reportId}/queries",
    "/v2/reports/{reportId}/columns",
    "/v2/dataModels/{dataModelId}/lineage",
    "/v2/dataModels/{dataModelId}/tags",
];

impl ApiSurface {
    /// Whether this surface serves a route template.
    pub fn serves(self, template: &str) -> bool {
        self == Self::Current || !CURRENT_ONLY_ROUTES.contains(&template)
    }
}

impl fmt::Display for ApiSurface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Current => "2026",
            Self::Legacy2023 => "2023",
        })
    }
}

impl FromStr for ApiSurface {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2026" | "current" => Ok(Self::Current),
            "2023" | "legacy" => Ok(Self::Legacy2023),
            other => Err(format!(
                "unknown API surface {other:?}: use 2026 (today's Sigma) or 2023 (the older one)"
            )),
        }
    }
}
