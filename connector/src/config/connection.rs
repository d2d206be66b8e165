//! `SigmaConnection`: field for field OpenMetadata's `sigmaConnection.json`, plus a few
//! optional tuning fields of our own. Every OpenMetadata config stays valid unchanged.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::FilterPattern;

/// The only service type this connector speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SigmaType {
    #[default]
    Sigma,
}

/// Sigma Connection Config (OpenMetadata `SigmaConnection`).
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "SigmaConnection", description = "Sigma Connection Config")]
pub struct SigmaConnection {
    /// Service Type
    #[serde(rename = "type", default)]
    pub service_type: SigmaType,

    /// Sigma API url: the base URL of your Sigma cloud's REST API, without the version
    /// (for example `https://aws-api.sigmacomputing.com`).
    #[schemars(title = "Host and Port", extend("default" = "https://api.sigmacomputing.com"))]
    pub host_port: Url,

    /// client_id for Sigma.
    #[schemars(title = "Client ID")]
    pub client_id: String,

    /// clientSecret for Sigma.
    #[schemars(title = "Client Secret", with = "String", extend("format" = "password", "writeOnly" = true))]
    pub client_secret: SecretString,

    /// Sigma API version.
    #[serde(default = "default_api_version")]
    #[schemars(title = "API Version", regex(pattern = r"^v[0-9]+(\.[0-9]+)?$"))]
    pub api_version: String,

    /// Regex to exclude or include dashboards (workbooks) that match the pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Default Dashboard Filter Pattern")]
    pub dashboard_filter_pattern: Option<FilterPattern>,

    /// Regex exclude or include charts (workbook elements) that match the pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Default Chart Filter Pattern")]
    pub chart_filter_pattern: Option<FilterPattern>,

    /// Regex exclude or include data models that match the pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Default Data Model Filter Pattern")]
    pub data_model_filter_pattern: Option<FilterPattern>,

    /// Regex to exclude or include projects (workspaces) that match the pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "Default Project Filter Pattern")]
    pub project_filter_pattern: Option<FilterPattern>,

    /// Supports Metadata Extraction.
    #[serde(default = "default_true")]
    #[schemars(title = "Supports Metadata Extraction")]
    pub supports_metadata_extraction: bool,

    // ---- sigma-connector extensions (all optional) ----
    /// Token endpoint override. Default: `{hostPort}/{apiVersion}/auth/token`. A Keycloak
    /// realm URL (`https://{host}/auth/realms/{realm}/protocol/openid-connect/token`) works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<Url>,

    /// Items requested per page of a Sigma listing (Sigma's maximum is 1000).
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: u32,

    /// Most Sigma requests in flight at once.
    #[serde(default = "default_max_concurrency")]
    #[schemars(range(min = 1, max = 256))]
    pub max_concurrency: u32,

    /// Optional client-side cap on requests per second (none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.1, max = 10000.0))]
    pub requests_per_second: Option<f64>,

    /// Seconds allowed for one HTTP request, including reading the body.
    #[serde(default = "default_request_timeout")]
    #[schemars(range(min = 1, max = 3600))]
    pub request_timeout: u64,

    /// Seconds allowed to open a TCP+TLS connection.
    #[serde(default = "default_connect_timeout")]
    #[schemars(range(min = 1, max = 600))]
    pub connect_timeout: u64,

    /// Retries of one request after the first attempt (transient failures only).
    #[serde(default = "default_max_retries")]
    #[schemars(range(max = 100))]
    pub max_retries: u32,

    /// Total seconds one request may spend retrying before it fails.
    #[serde(default = "default_retry_timeout")]
    #[schemars(range(min = 1, max = 86400))]
    pub retry_timeout: u64,

    /// Longest response body read from Sigma, in bytes, token answers included (default
    /// 64 MiB). Reading stops as soon as a body passes it and the request fails naming
    /// this setting, unretried: a page of 1,000 entries is a few MB, so a body this large
    /// is a misconfigured proxy or not Sigma. Memory held by bodies in flight is at most
    /// about `maxConcurrency` times this.
    #[serde(default = "default_max_response_bytes")]
    #[schemars(range(min = 1024, max = 4294967296u64))]
    pub max_response_bytes: u64,

    /// Allow plain `http://` to a host that is not loopback. Off by default: a bearer
    /// token must not cross a network unencrypted.
    #[serde(default)]
    pub allow_insecure_http: bool,

    /// Explicit map from a Sigma connection (id or name) to an OpenMetadata database
    /// service, written `service[.database[.schema]]`. Takes precedence over
    /// `lineageInformation.dbServicePrefixes`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connection_service_map: BTreeMap<String, String>,
}

fn default_api_version() -> String {
    "v2".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_page_size() -> u32 {
    1000
}
fn default_max_concurrency() -> u32 {
    16
}
fn default_request_timeout() -> u64 {
    60
}
fn default_connect_timeout() -> u64 {
    10
}
/// The default cap on one response body: 64 MiB. A page of 1,000 Sigma entries is a few
/// MB and a token answer under a kilobyte; anything near this is not Sigma answering.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

pub(crate) fn default_max_response_bytes() -> u64 {
    DEFAULT_MAX_RESPONSE_BYTES
}
fn default_max_retries() -> u32 {
    8
}
fn default_retry_timeout() -> u64 {
    300
}

impl SigmaConnection {
    /// `hostPort` as written: without the trailing `/` that `Url` adds to a bare origin.
    pub fn host_port_text(&self) -> &str {
        self.host_port.as_str().trim_end_matches('/')
    }

    /// The URLs this connection talks to (API base, host, token endpoint), parsed once.
    pub fn endpoints(&self) -> Result<super::SigmaEndpoints, super::EndpointError> {
        super::SigmaEndpoints::of(self)
    }

    /// The connection as OpenMetadata stores it on the dashboard service, without the
    /// secret (OpenMetadata keeps secrets in its own secrets manager).
    pub fn to_public_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("type".into(), "Sigma".into());
        // As written: `Url` adds a `/` to a bare origin, which OpenMetadata would then show.
        map.insert("hostPort".into(), self.host_port_text().into());
        map.insert("clientId".into(), self.client_id.clone().into());
        map.insert("apiVersion".into(), self.api_version.clone().into());
        for (key, pattern) in [
            ("dashboardFilterPattern", &self.dashboard_filter_pattern),
            ("chartFilterPattern", &self.chart_filter_pattern),
            ("dataModelFilterPattern", &self.data_model_filter_pattern),
            ("projectFilterPattern", &self.project_filter_pattern),
        ] {
            if let Some(p) = pattern {
                map.insert(key.into(), serde_json::to_value(p).unwrap_or_default());
            }
        }
        map.insert(
            "supportsMetadataExtraction".into(),
            self.supports_metadata_extraction.into(),
        );
        serde_json::Value::Object(map)
    }
}

impl fmt::Debug for SigmaConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigmaConnection")
            .field("host_port", &self.host_port.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("api_version", &self.api_version)
            .field("token_url", &self.token_url.as_ref().map(Url::as_str))
            .field("page_size", &self.page_size)
            .field("max_concurrency", &self.max_concurrency)
            .field("requests_per_second", &self.requests_per_second)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_host_port_is_as_written_without_an_added_slash() {
        for (written, public) in [
            (
                "https://aws-api.sigmacomputing.com",
                "https://aws-api.sigmacomputing.com",
            ),
            (
                "https://aws-api.sigmacomputing.com/",
                "https://aws-api.sigmacomputing.com",
            ),
            (
                "https://proxy.example.com/sigma",
                "https://proxy.example.com/sigma",
            ),
        ] {
            let conn: SigmaConnection = serde_json::from_value(serde_json::json!({
                "hostPort": written, "clientId": "id", "clientSecret": "secret"
            }))
            .unwrap();
            assert_eq!(conn.to_public_json()["hostPort"], public);
            assert_eq!(
                conn.endpoints()
                    .unwrap()
                    .api_base
                    .as_str()
                    .trim_end_matches('/'),
                format!("{public}/v2")
            );
        }
    }
}
