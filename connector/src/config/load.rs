//! Loading: text (YAML or JSON) -> `serde_json::Value` -> `${ENV}` substitution -> JSON Schema
//! validation (every violation, formats checked) -> semantic checks -> typed config.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::validate::{
    Kind, Violation, escape_pointer, is_secret_key, schema_violations, scrub, semantic_violations,
};
use super::{SigmaConnection, Workflow};

/// Why a config could not be loaded. Never carries a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{format} syntax error: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error("config is invalid ({} problem{}):\n{}", violations.len(),
        if violations.len() == 1 { "" } else { "s" },
        violations.iter().map(|v| format!("  {v}")).collect::<Vec<_>>().join("\n"))]
    Invalid { violations: Vec<Violation> },
}

impl ConfigError {
    /// The violations, empty for read and syntax errors.
    pub fn violations(&self) -> &[Violation] {
        match self {
            ConfigError::Invalid { violations } => violations,
            _ => &[],
        }
    }
}

/// What a user handed us: a whole workflow, or a bare `SigmaConnection` as a UI form sends it.
#[derive(Debug, Clone)]
pub enum ConfigInput {
    Workflow(Box<Workflow>),
    Connection(Box<SigmaConnection>),
}

impl ConfigInput {
    pub fn connection(&self) -> &SigmaConnection {
        match self {
            ConfigInput::Workflow(w) => &w.source.service_connection.config,
            ConfigInput::Connection(c) => c,
        }
    }
}

/// Reads and loads a workflow file (YAML or JSON).
pub fn load_workflow_file(path: &Path) -> Result<Workflow, ConfigError> {
    let text = read(path)?;
    load_workflow_str(&text)
}

/// Loads a workflow from YAML or JSON text, with `${VAR}` taken from the process environment.
pub fn load_workflow_str(text: &str) -> Result<Workflow, ConfigError> {
    let value = parse(text)?;
    finish(value, Kind::Workflow, &env_lookup)
}

/// Loads a bare `SigmaConnection` from YAML or JSON text.
pub fn load_connection_str(text: &str) -> Result<SigmaConnection, ConfigError> {
    let value = parse(text)?;
    finish(value, Kind::Connection, &env_lookup)
}

/// Reads a file that holds either a workflow or a bare connection (`-` is standard input).
pub fn load_input_file(path: &Path) -> Result<ConfigInput, ConfigError> {
    let text = if path == Path::new("-") {
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut buf).map_err(|source| {
            ConfigError::Read {
                path: path.to_owned(),
                source,
            }
        })?;
        buf
    } else {
        read(path)?
    };
    load_input_str(&text)
}

/// Loads either a workflow (it has a top-level `source`) or a bare connection.
pub fn load_input_str(text: &str) -> Result<ConfigInput, ConfigError> {
    load_input_with_env(text, &env_lookup)
}

pub(crate) fn load_input_with_env(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConfigInput, ConfigError> {
    let value = parse(text)?;
    let is_workflow = value.get("source").is_some() || value.get("sink").is_some();
    if is_workflow {
        finish(value, Kind::Workflow, env).map(|w| ConfigInput::Workflow(Box::new(w)))
    } else {
        finish(value, Kind::Connection, env).map(|c| ConfigInput::Connection(Box::new(c)))
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// JSON when it looks like JSON, else YAML. Error messages carry a position but never a
/// snippet of the input: the line at fault may hold a secret.
fn parse(text: &str) -> Result<Value, ConfigError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.is_empty() {
        return Err(ConfigError::Syntax {
            format: "config",
            message:
                "the file is empty; expected a workflow with `source`, `sink` and `workflowConfig`"
                    .into(),
        });
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| ConfigError::Syntax {
            format: "JSON",
            message: e.to_string(),
        });
    }
    let options = serde_saphyr::options! { with_snippet: false };
    let value: Value = serde_saphyr::from_str_with_options(trimmed, options).map_err(|e| {
        let message = match e.location() {
            Some(loc) => format!(
                "at line {} column {}: {}",
                loc.line(),
                loc.column(),
                first_line(&e.without_snippet().to_string())
            ),
            None => first_line(&e.to_string()),
        };
        ConfigError::Syntax {
            format: "YAML",
            message,
        }
    })?;
    if !value.is_object() {
        return Err(ConfigError::Syntax {
            format: "config",
            message: "the top level must be a mapping (key: value pairs)".into(),
        });
    }
    Ok(value)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

fn finish<T: DeserializeOwned>(
    mut value: Value,
    kind: Kind,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<T, ConfigError> {
    let mut violations = Vec::new();
    substitute_env(&mut value, &mut String::new(), env, &mut violations);
    if !violations.is_empty() {
        return Err(ConfigError::Invalid { violations });
    }
    let secrets = collect_secrets(&value);
    violations.extend(schema_violations(&value, kind, &secrets));
    violations.extend(semantic_violations(&value, kind));
    if !violations.is_empty() {
        violations.dedup();
        return Err(ConfigError::Invalid { violations });
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        let message = scrub(&e.inner().to_string(), &secrets);
        ConfigError::Invalid {
            violations: vec![Violation { pointer, message }],
        }
    })
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", escape_pointer(key))),
            Segment::Enum { variant } => out.push_str(&format!("/{}", escape_pointer(variant))),
            Segment::Unknown => {}
        }
    }
    out
}

fn collect_secrets(value: &Value) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if is_secret_key(k) {
                        if let Value::String(s) = v {
                            if !s.is_empty() {
                                out.push(s.clone());
                            }
                            continue;
                        }
                    }
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut out);
    out
}

/// Replaces `${VAR}` and `${VAR:-default}` in every string value; `$${` is a literal `${`.
fn substitute_env(
    value: &mut Value,
    pointer: &mut String,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<Violation>,
) {
    match value {
        Value::String(s) if s.contains("${") => match expand(s, env) {
            Ok(expanded) => *s = expanded,
            Err(message) => out.push(Violation {
                pointer: pointer.clone(),
                message,
            }),
        },
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer(k));
                substitute_env(v, pointer, env, out);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                substitute_env(v, pointer, env, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn expand(input: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(body) = tail.strip_prefix("${") {
            let end = body
                .find('}')
                .ok_or_else(|| "unterminated `${`: close it with `}`".to_owned())?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{name}}}` is not a valid environment variable reference (letters, digits and _ only)"
                ));
            }
            match (env(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(format!(
                        "environment variable `{name}` is not set; export it, or write ${{{name}:-default}}"
                    ));
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::validate::check_base_url;
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SECRET" => Some("s3cr3t".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_variables_defaults_and_escapes() {
        assert_eq!(expand("${SECRET}", &env).unwrap(), "s3cr3t");
        assert_eq!(expand("a-${SECRET}-b", &env).unwrap(), "a-s3cr3t-b");
        assert_eq!(expand("${NOPE:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(expand("${EMPTY:-dflt}", &env).unwrap(), "");
        assert_eq!(expand("$${SECRET}", &env).unwrap(), "${SECRET}");
        assert_eq!(expand("cost $5", &env).unwrap(), "cost $5");
        assert!(expand("${NOPE}", &env).unwrap_err().contains("`NOPE`"));
        assert!(
            expand("${SECRET", &env)
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(expand("${1X}", &env).is_err());
    }

    #[test]
    fn scrub_hides_quoted_and_bare_secrets() {
        let secrets = vec!["hunter22".to_owned()];
        assert_eq!(
            scrub(r#""hunter22" is not of type "integer""#, &secrets),
            r#""[redacted]" is not of type "integer""#
        );
        assert_eq!(scrub("x hunter22 y", &secrets), "x [redacted] y");
    }

    #[test]
    fn base_url_rules() {
        assert!(check_base_url("https://api.sigmacomputing.com", true, false).is_empty());
        assert!(check_base_url("http://127.0.0.1:9000", true, false).is_empty());
        assert!(check_base_url("http://localhost:9000", true, false).is_empty());
        assert_eq!(check_base_url("http://example.com", true, false).len(), 1);
        assert!(check_base_url("http://example.com", true, true).is_empty());
        assert_eq!(check_base_url("ftp://example.com", true, false).len(), 1);
        assert_eq!(
            check_base_url("https://api.sigmacomputing.com/v2", true, false).len(),
            1
        );
        assert!(check_base_url("https://proxy.example.com/sigma", true, false).is_empty());
        let api = check_base_url("https://aws-api.sigmacomputing.com/api", true, false);
        assert_eq!(api.len(), 1, "{api:?}");
        assert!(api[0].contains("`/api`"), "{api:?}");
        let api = check_base_url("https://proxy.example.com/sigma/api/", true, false);
        assert!(api[0].contains("remove `/api`"), "{api:?}");
        // tokenUrl is a full endpoint: its path is its own business.
        assert!(check_base_url("https://kc.example.com/api/token", false, false).is_empty());
    }
}
