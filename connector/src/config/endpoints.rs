//! The URLs a connection talks to, parsed once from `hostPort`, `apiVersion` and `tokenUrl`.
//! Config checks, the Sigma client and test connection all read these instead of building
//! and re-parsing strings of their own, so "where do requests go" and "may a token be sent
//! there" are each decided in one place.

use url::Url;

use super::SigmaConnection;

/// Where requests for one Sigma connection go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigmaEndpoints {
    /// `hostPort` as given, without a trailing slash: the root that `/v2.1/...` paths hang off.
    pub host: Url,
    /// `{hostPort}/{apiVersion}`, without a trailing slash.
    pub api_base: Url,
    /// `tokenUrl` when set, else `{api_base}/auth/token`.
    pub token_url: Url,
    /// Whether `token_url` is the operator's `tokenUrl` rather than Sigma's own endpoint.
    pub custom_token_url: bool,
}

/// Why a connection's URLs cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{0}")]
    Insecure(String),
}

impl SigmaEndpoints {
    /// The endpoints of `conn`; refused when one of them would carry credentials over plain
    /// http to a host that is not loopback (unless `allowInsecureHttp`).
    pub fn of(conn: &SigmaConnection) -> Result<Self, EndpointError> {
        let host_text = conn.host_port.as_str().trim_end_matches('/');
        let host = parse("hostPort", host_text)?;
        let api_base = parse("hostPort", &format!("{host_text}/{}", conn.api_version))?;
        let (token_url, custom_token_url) = match &conn.token_url {
            Some(url) => (url.clone(), true),
            None => (
                parse(
                    "hostPort",
                    &format!("{}/auth/token", api_base.as_str().trim_end_matches('/')),
                )?,
                false,
            ),
        };
        for url in [&api_base, &token_url] {
            check_transport_security(url, conn.allow_insecure_http)
                .map_err(EndpointError::Insecure)?;
        }
        Ok(Self {
            host,
            api_base,
            token_url,
            custom_token_url,
        })
    }

    /// The path `hostPort` carries, when it has one: Sigma serves its API at the root of
    /// its host (`https://aws-api.sigmacomputing.com`), so `/api` or similar there is
    /// usually a mistake copied from another product's URL, and every request 404s.
    pub fn host_path(&self) -> Option<&str> {
        Some(self.host.path().trim_end_matches('/')).filter(|p| !p.is_empty())
    }

    /// `hostPort` without its path: what it most likely should have been.
    pub fn host_origin(&self) -> String {
        origin(&self.host)
    }
}

fn parse(field: &'static str, text: &str) -> Result<Url, EndpointError> {
    Url::parse(text).map_err(|e| EndpointError::Invalid {
        field,
        reason: format!("`{text}`: {e}"),
    })
}

/// `scheme://host[:port]` (never a path or query): safe to print.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether `url` may carry credentials or a bearer token: https, or http to a loopback
/// host, or http anywhere when the operator explicitly allowed it. The one rule, read by
/// config validation and by every client built from a connection.
pub fn check_transport_security(url: &Url, allow_insecure_http: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback || allow_insecure_http {
                Ok(())
            } else {
                Err(format!(
                    "`{}` uses plain http to a host that is not loopback, which would send credentials unencrypted; use https, or set allowInsecureHttp: true",
                    origin(url)
                ))
            }
        }
        other => Err(format!("unsupported URL scheme `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(host_port: &str) -> SigmaConnection {
        serde_json::from_value(serde_json::json!({
            "hostPort": host_port, "clientId": "id", "clientSecret": "secret"
        }))
        .unwrap()
    }

    #[test]
    fn endpoints_are_derived_once_from_host_port_and_api_version() {
        let e = SigmaEndpoints::of(&conn("https://aws-api.sigmacomputing.com/")).unwrap();
        assert_eq!(e.host.as_str(), "https://aws-api.sigmacomputing.com/");
        assert_eq!(e.api_base.as_str(), "https://aws-api.sigmacomputing.com/v2");
        assert_eq!(
            e.token_url.as_str(),
            "https://aws-api.sigmacomputing.com/v2/auth/token"
        );
        assert!(!e.custom_token_url);
        assert_eq!(e.host_path(), None);
    }

    #[test]
    fn a_path_on_host_port_is_kept_and_named() {
        let e = SigmaEndpoints::of(&conn("https://aws-api.sigmacomputing.com/api")).unwrap();
        assert_eq!(e.host_path(), Some("/api"));
        assert_eq!(e.host_origin(), "https://aws-api.sigmacomputing.com");
        assert_eq!(
            e.token_url.as_str(),
            "https://aws-api.sigmacomputing.com/api/v2/auth/token"
        );
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let ok = |s: &str, allow| check_transport_security(&Url::parse(s).unwrap(), allow).is_ok();
        assert!(ok("https://api.sigmacomputing.com", false));
        assert!(ok("http://127.0.0.1:8080", false));
        assert!(ok("http://[::1]:8080", false));
        assert!(ok("http://localhost:8080", false));
        assert!(!ok("http://api.sigmacomputing.com", false));
        assert!(!ok("http://10.0.0.5", false));
        assert!(ok("http://10.0.0.5", true));
        assert!(!ok("ftp://127.0.0.1", true));
        let mut c = conn("https://api.sigmacomputing.com");
        c.token_url = Some(Url::parse("http://idp.example.com/token").unwrap());
        assert!(matches!(
            SigmaEndpoints::of(&c),
            Err(EndpointError::Insecure(_))
        ));
    }
}
