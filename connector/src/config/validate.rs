//! The checks a config must pass besides deserializing: its JSON Schema (every violation,
//! formats checked, secrets scrubbed from the messages) and the rules a schema cannot say
//! (filter patterns that compile, a `hostPort` that is an origin on a safe transport).

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use std::fmt;
use std::sync::OnceLock;

use super::schema;

/// One thing wrong with a config: where (a JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Workflow,
    Connection,
}

impl Kind {
    pub(super) fn connection_pointer(self) -> &'static str {
        match self {
            Kind::Workflow => "/source/serviceConnection/config",
            Kind::Connection => "",
        }
    }
    pub(super) fn validator(self) -> &'static jsonschema::Validator {
        static WORKFLOW: OnceLock<jsonschema::Validator> = OnceLock::new();
        static CONNECTION: OnceLock<jsonschema::Validator> = OnceLock::new();
        let (cell, make): (_, fn() -> Value) = match self {
            Kind::Workflow => (&WORKFLOW, schema::workflow_schema),
            Kind::Connection => (&CONNECTION, schema::connection_schema),
        };
        cell.get_or_init(|| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(&make())
                .expect("the generated schema is a valid JSON Schema (tested)")
        })
    }
}

pub(super) fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Keys whose values are secrets wherever they appear.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("secret") || k.contains("password") || k.ends_with("token") || k == "jwt"
}

/// Replaces every secret (as it appears in a message: bare or JSON-quoted) with a marker.
pub(super) fn scrub(message: &str, secrets: &[String]) -> String {
    let mut out = message.to_owned();
    for secret in secrets {
        let quoted = serde_json::to_string(secret).unwrap_or_default();
        out = out.replace(&quoted, "\"[redacted]\"");
        if secret.len() >= 4 {
            out = out.replace(secret.as_str(), "[redacted]");
        }
    }
    const MAX: usize = 300;
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect::<String>() + "…";
    }
    out
}

pub(super) fn schema_violations(value: &Value, kind: Kind, secrets: &[String]) -> Vec<Violation> {
    let mut out = Vec::new();
    for error in kind.validator().iter_errors(value) {
        let path = error.instance_path().as_str().to_owned();
        let last = path.rsplit('/').next().unwrap_or_default();
        let message = if is_secret_key(last) {
            error.masked_with("[redacted]").to_string()
        } else {
            error.to_string()
        };
        match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                out.push(Violation {
                    pointer: format!("{path}/{}", escape_pointer(name)),
                    message: "is required but missing".into(),
                });
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    out.push(Violation {
                        pointer: format!("{path}/{}", escape_pointer(key)),
                        message: format!(
                            "unknown field `{key}`; check its spelling (docs/configuration.md lists every field)"
                        ),
                    });
                }
            }
            ValidationErrorKind::Format { format } if format == "uri" => out.push(Violation {
                message: format!(
                    "{}; write a full URL with its scheme, for example https://aws-api.sigmacomputing.com",
                    scrub(&message, secrets)
                ),
                pointer: path,
            }),
            ValidationErrorKind::Enum { options } => {
                let allowed = options
                    .as_array()
                    .map(|o| o.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                let shown = if is_secret_key(last) {
                    "[redacted]".to_owned()
                } else {
                    error.instance().to_string()
                };
                out.push(Violation {
                    message: scrub(&format!("{shown} is not one of: {allowed}"), secrets),
                    pointer: path,
                });
            }
            ValidationErrorKind::Pattern { .. } if last == "serviceName" => out.push(Violation {
                message: "must not contain `.`: OpenMetadata uses it to separate the parts of a fully qualified name".into(),
                pointer: path,
            }),
            ValidationErrorKind::Pattern { .. } if last == "apiVersion" => out.push(Violation {
                message: scrub(&format!("{message}; Sigma's REST API version looks like `v2`"), secrets),
                pointer: path,
            }),
            _ => out.push(Violation {
                message: scrub(&message, secrets),
                pointer: path,
            }),
        }
    }
    out
}

/// Checks JSON Schema cannot express: regexes compile with the engine the filters use,
/// hostPort is a base URL we can safely send a bearer token to, the file sink has a file.
pub(super) fn semantic_violations(value: &Value, kind: Kind) -> Vec<Violation> {
    let mut out = Vec::new();
    check_filter_patterns(value, &mut String::new(), &mut out);
    let source_config = value.pointer("/source/sourceConfig/config");
    if source_config.and_then(|c| c.get("includeDraftDashboard")) == Some(&Value::Bool(false)) {
        out.push(Violation {
            pointer: "/source/sourceConfig/config/includeDraftDashboard".to_owned(),
            message: "cannot be false for Sigma: Sigma's API lists saved workbooks with no draft or published state (unpublished edits are not exposed), so there are no drafts to leave out; remove includeDraftDashboard or set it to true".to_owned(),
        });
    }
    let conn_ptr = kind.connection_pointer();
    if let Some(conn) = value.pointer(conn_ptr) {
        let allow_http = conn
            .get("allowInsecureHttp")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        for field in ["clientId", "clientSecret"] {
            if conn
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| v.trim().is_empty())
            {
                let hint = if field == "clientSecret" {
                    "${SIGMA_CLIENT_SECRET}"
                } else {
                    "${SIGMA_CLIENT_ID}"
                };
                out.push(Violation {
                    pointer: format!("{conn_ptr}/{field}"),
                    message: format!(
                        "is empty; set it to the API credential's {} from Sigma's Developer Access page, or take it from the environment with {hint}",
                        if field == "clientSecret" { "secret" } else { "client id" }
                    ),
                });
            }
        }
        for field in ["hostPort", "tokenUrl"] {
            if let Some(raw) = conn.get(field).and_then(Value::as_str) {
                check_base_url(raw, field == "hostPort", allow_http)
                    .into_iter()
                    .for_each(|message| {
                        out.push(Violation {
                            pointer: format!("{conn_ptr}/{field}"),
                            message,
                        })
                    });
            }
        }
    }
    if let Kind::Workflow = kind {
        let sink_type = value.pointer("/sink/type").and_then(Value::as_str);
        let filename = value.pointer("/sink/config/filename");
        if sink_type == Some("file") && filename.is_none() {
            out.push(Violation {
                pointer: "/sink/config/filename".into(),
                message:
                    "is required when the sink type is `file`: name the JSON Lines file to write"
                        .into(),
            });
        }
        if sink_type == Some("datahub-file") && filename.is_none() {
            out.push(Violation {
                pointer: "/sink/config/filename".into(),
                message: "is required when the sink type is `datahub-file`: name the JSON file of metadata change proposals to write".into(),
            });
        }
        if sink_type == Some("datahub-rest") && value.pointer("/sink/config/server").is_none() {
            out.push(Violation {
                pointer: "/sink/config/server".into(),
                message: "is required when the sink type is `datahub-rest`: DataHub's GMS, for example http://localhost:8080".into(),
            });
        }
    }
    out
}

fn check_filter_patterns(value: &Value, pointer: &mut String, out: &mut Vec<Violation>) {
    let Value::Object(map) = value else { return };
    for (key, child) in map {
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&escape_pointer(key));
        if key.ends_with("FilterPattern") {
            for list in ["includes", "excludes"] {
                let Some(Value::Array(items)) = child.get(list) else {
                    continue;
                };
                for (i, item) in items.iter().enumerate() {
                    let Some(pattern) = item.as_str() else {
                        continue;
                    };
                    if let Err(e) = regex::RegexBuilder::new(pattern)
                        .case_insensitive(true)
                        .build()
                    {
                        let detail = e.to_string();
                        let detail = detail.lines().last().unwrap_or_default().trim();
                        out.push(Violation {
                            pointer: format!("{pointer}/{list}/{i}"),
                            message: format!(
                                "`{pattern}` is not a valid regular expression: {detail}"
                            ),
                        });
                    }
                }
            }
        } else {
            check_filter_patterns(child, pointer, out);
        }
        pointer.truncate(len);
    }
}

pub(super) fn check_base_url(raw: &str, is_host_port: bool, allow_http: bool) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(url) = url::Url::parse(raw) else {
        return out; // the schema's `format: uri` reports it
    };
    match url.scheme() {
        "https" => {}
        "http" => {
            if super::endpoints::check_transport_security(&url, allow_http).is_err() {
                out.push(format!(
                    "`{raw}` uses plain http to a host that is not loopback, which would send the bearer token unencrypted; use https, or set allowInsecureHttp: true if you must"
                ));
            }
        }
        other => out.push(format!(
            "`{raw}` has scheme `{other}`; use an https:// URL such as https://aws-api.sigmacomputing.com"
        )),
    }
    if url.host().is_none() {
        out.push(format!("`{raw}` has no host name"));
    }
    if is_host_port {
        let path = url.path().trim_end_matches('/');
        let last = path.rsplit('/').next().unwrap_or_default();
        if last.len() > 1
            && last.starts_with('v')
            && last[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            out.push(format!(
                "`{raw}` ends with the API version `{last}`; give hostPort without it (apiVersion is appended)"
            ));
        } else if let Some(problem) = unused_host_port_path(&url) {
            out.push(format!("`{raw}` {problem}"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            out.push(format!(
                "`{raw}` has a query or fragment; give the bare API base URL"
            ));
        }
    }
    out
}

/// A path on `hostPort` that Sigma never serves: Sigma's API paths begin `/v2` right
/// after the host, so its own hosts take no path, and `/api` (OpenMetadata's own
/// `hostPort` ends so) is the common slip. A reverse proxy's prefix such as `/sigma` is
/// allowed.
fn unused_host_port_path(url: &url::Url) -> Option<String> {
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let sigma_host = host == "sigmacomputing.com" || host.ends_with(".sigmacomputing.com");
    let last = path.rsplit('/').next().unwrap_or_default();
    if sigma_host {
        Some(format!(
            "has the path `{path}`, which Sigma's API does not use; give hostPort as `{}://{host}` (apiVersion is appended)",
            url.scheme()
        ))
    } else if last.eq_ignore_ascii_case("api") {
        Some(format!(
            "ends with `/{last}`, a path Sigma's API does not use (its paths start with /{{apiVersion}} right after the host); remove `/{last}`"
        ))
    } else {
        None
    }
}
