//! The per-response size cap (`maxResponseBytes`), against a real loopback server that
//! answers with far more than the cap: the request fails naming the path, the cap and the
//! setting, is not retried, and the body is abandoned early (the server cannot hand over
//! much more than the cap before the connection is dropped), so memory stays bounded.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sigma_connector::client::{ErrorKind, FailureCause, SigmaClient};
use sigma_connector::config::{OpenMetadataServerConfig, SigmaConnection};
use sigma_connector::sink::MetadataRestSink;
use sigma_connector::sink::Sink;
use support::cli::{assert_exit, ingest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the server sends for one request.
#[derive(Clone, Copy)]
enum Reply {
    /// A small JSON body.
    Json(&'static str),
    /// `total` bytes of a JSON string, chunked (no `Content-Length`): the client only
    /// learns how big it is by reading.
    Endless { total: u64 },
    /// `Content-Length: total`, then the bytes.
    Announced { total: u64 },
}

/// A loopback HTTP/1.1 server: `route(method, path)` picks the reply; every connection
/// reports how many body bytes it managed to write before the client hung up.
struct Server {
    base: String,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    written: mpsc::UnboundedReceiver<u64>,
}

const TOKEN: &str = r#"{"access_token":"the-access-token","expires_in":3600}"#;
const EMPTY_PAGE: &str = r#"{"entries":[],"nextPage":null}"#;
const CHUNK: usize = 64 * 1024;

impl Server {
    async fn start(route: fn(&str, &str) -> Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, written) = mpsc::unbounded_channel();
        let seen = Arc::clone(&requests);
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let seen = Arc::clone(&seen);
                let tx = tx.clone();
                tokio::spawn(async move {
                    let written = serve(stream, route, &seen).await;
                    let _ = tx.send(written);
                });
            }
        });
        Self {
            base,
            requests,
            connections,
            written,
        }
    }

    fn requests_to(&self, path: &str) -> usize {
        let requests = self.requests.lock().unwrap();
        requests.iter().filter(|r| r.ends_with(path)).count()
    }

    /// The most body bytes any one connection wrote, once every connection has ended (drop
    /// the client first, or its idle connections stay open). The timeout is a hang guard
    /// only: a connection the client dropped ends at the server's next write.
    async fn most_written(&mut self) -> u64 {
        let mut most = 0;
        let connections = self.connections.load(std::sync::atomic::Ordering::SeqCst);
        for _ in 0..connections {
            let n = tokio::time::timeout(Duration::from_secs(120), self.written.recv())
                .await
                .expect("the server's connection ends once the client hangs up")
                .expect("the server runs");
            most = most.max(n);
        }
        most
    }
}

/// Serves requests on one connection; returns the body bytes written.
async fn serve(
    mut stream: TcpStream,
    route: fn(&str, &str) -> Reply,
    seen: &std::sync::Mutex<Vec<String>>,
) -> u64 {
    let mut written = 0u64;
    let mut buf = Vec::new();
    loop {
        // The request head, then a body of Content-Length bytes (the token form).
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return written,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return written,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        let mut words = head.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let path = target.split('?').next().unwrap_or("").to_owned();
        seen.lock().unwrap().push(format!("{method} {path}"));
        match route(method, &path) {
            Reply::Json(body) => {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if stream.write_all(reply.as_bytes()).await.is_err() {
                    return written;
                }
            }
            Reply::Endless { total } => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return written;
                }
                let data = vec![b'x'; CHUNK];
                while written < total {
                    let frame = [format!("{CHUNK:x}\r\n").as_bytes(), &data, b"\r\n"].concat();
                    if stream.write_all(&frame).await.is_err() {
                        return written;
                    }
                    written += CHUNK as u64;
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
                return written;
            }
            Reply::Announced { total } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return written;
                }
                let data = vec![b'x'; CHUNK];
                while written < total {
                    if stream.write_all(&data).await.is_err() {
                        return written;
                    }
                    written += CHUNK as u64;
                }
                return written;
            }
        }
    }
}

/// 1 GiB: if the client read it all, the bounds below could not hold.
const HUGE: u64 = 1 << 30;
/// The cap the tests set: 64 KiB.
const CAP: u64 = 64 * 1024;
/// What the server can have written beyond the cap when the client stops reading: the
/// client's last chunk plus both sockets' kernel buffers (a few MB on loopback at most).
const SLACK: u64 = 32 << 20;

fn connection(base: &str, cap: Option<u64>) -> SigmaConnection {
    let mut conn = json!({
        "hostPort": base, "clientId": "id", "clientSecret": "the-client-secret",
        "maxRetries": 3, "retryTimeout": 30
    });
    if let Some(cap) = cap {
        conn["maxResponseBytes"] = json!(cap);
    }
    sigma_connector::config::load_connection_str(&conn.to_string()).unwrap()
}

fn listing_too_large(method: &str, path: &str) -> Reply {
    match (method, path) {
        ("POST", "/v2/auth/token") => Reply::Json(TOKEN),
        (_, "/v2/workbooks") => Reply::Endless { total: HUGE },
        _ => Reply::Json(EMPTY_PAGE),
    }
}

#[tokio::test]
async fn a_listing_over_the_cap_fails_naming_path_cap_and_setting_and_is_not_retried() {
    let mut server = Server::start(listing_too_large).await;
    let client = SigmaClient::new(&connection(&server.base, Some(CAP))).unwrap();
    let err = client
        .get_json::<Value>("workbooks", &[("limit", "1000")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: CAP }, "{err}");
    let text = err.to_string();
    for needle in [
        "GET /v2/workbooks",
        "65536 bytes (64 KiB)",
        "maxResponseBytes",
    ] {
        assert!(text.contains(needle), "{needle:?} not in: {text}");
    }
    assert!(!text.contains("the-access-token") && !text.contains("the-client-secret"));
    assert_eq!(server.requests_to("/v2/workbooks"), 1, "retried");
    assert_eq!(err.attempts(), 1);
    assert!(client.stats().bytes_received <= TOKEN.len() as u64 + CAP + CHUNK as u64);
    // Dropping the client closes its idle connections, so every connection ends.
    drop(client);
    let sent = server.most_written().await;
    assert!(
        sent < CAP + SLACK,
        "the server wrote {sent} bytes before the client hung up"
    );
}

#[tokio::test]
async fn an_announced_length_over_the_cap_is_refused_before_reading() {
    fn route(method: &str, path: &str) -> Reply {
        match (method, path) {
            ("POST", "/v2/auth/token") => Reply::Json(TOKEN),
            _ => Reply::Announced { total: HUGE },
        }
    }
    let mut server = Server::start(route).await;
    let client = SigmaClient::new(&connection(&server.base, Some(CAP))).unwrap();
    let err = client
        .get_json::<Value>("workbooks", &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: CAP }, "{err}");
    // Nothing of the body was taken in: the length said enough.
    assert_eq!(
        client.stats().bytes_received,
        TOKEN.len() as u64,
        "{:?}",
        client.stats()
    );
    drop(client);
    assert!(server.most_written().await < CAP + SLACK);
}

#[tokio::test]
async fn the_default_cap_is_64_mib() {
    let conn = connection("http://127.0.0.1:1", None);
    assert_eq!(conn.max_response_bytes, 64 * 1024 * 1024);
    let server: OpenMetadataServerConfig =
        serde_json::from_value(json!({"hostPort": "http://localhost:8585/api"})).unwrap();
    assert_eq!(server.max_response_bytes, 64 * 1024 * 1024);
}

#[tokio::test]
async fn a_token_answer_over_the_cap_ends_the_start_naming_the_cap() {
    fn route(method: &str, path: &str) -> Reply {
        match (method, path) {
            ("POST", "/v2/auth/token") => Reply::Endless { total: HUGE },
            _ => Reply::Json(EMPTY_PAGE),
        }
    }
    let mut server = Server::start(route).await;
    let conn = connection(&server.base, Some(CAP));
    let client = SigmaClient::new(&conn).unwrap();
    let err = client.authenticate().await.unwrap_err();
    drop(client);
    assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: CAP }, "{err}");
    assert_eq!(server.requests_to("/v2/auth/token"), 1, "retried");
    let cause = FailureCause::of(&conn, &err).to_string();
    for needle in ["/v2/auth/token", "65536 bytes (64 KiB)", "maxResponseBytes"] {
        assert!(cause.contains(needle), "{needle:?} not in: {cause}");
    }
    assert!(server.most_written().await < CAP + SLACK);
}

#[tokio::test]
async fn an_openmetadata_answer_over_the_cap_fails_naming_the_server_setting() {
    fn route(_: &str, path: &str) -> Reply {
        match path {
            "/api/v1/system/version" => Reply::Endless { total: HUGE },
            _ => Reply::Json("{}"),
        }
    }
    let mut server = Server::start(route).await;
    let config: OpenMetadataServerConfig = serde_json::from_value(json!({
        "hostPort": format!("{}/api", server.base),
        "securityConfig": {"jwtToken": "eyJ.the.jwt"},
        "maxResponseBytes": CAP
    }))
    .unwrap();
    let mut sink = MetadataRestSink::new(&config, Default::default()).unwrap();
    let err = sink.healthcheck().await.unwrap_err().to_string();
    drop(sink);
    for needle in [
        "/api/v1/system/version",
        "65536 bytes (64 KiB)",
        "workflowConfig.openMetadataServerConfig.maxResponseBytes",
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(!err.contains("eyJ"), "{err}");
    assert_eq!(server.requests_to("/api/v1/system/version"), 1, "retried");
    assert!(server.most_written().await < CAP + SLACK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_workbook_listing_is_over_the_cap_fails_naming_the_cap() {
    let server = Server::start(listing_too_large).await;
    let dir = tempfile::tempdir().unwrap();
    let doc = json!({
        "source": {
            "type": "sigma", "serviceName": "sigma_capped",
            "serviceConnection": {"config": {
                "type": "Sigma", "hostPort": server.base,
                "clientId": "id", "clientSecret": "the-client-secret",
                "maxRetries": 1, "retryTimeout": 5, "maxResponseBytes": CAP
            }},
            "sourceConfig": {"config": {"includeUsage": false}}
        },
        "sink": {"type": "file", "config": {"filename": dir.path().join("out.jsonl")}},
        "workflowConfig": {"loggerLevel": "INFO"}
    });
    let path = dir.path().join("workflow.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = ingest(&path, &[]).await;
    // A listing that ended early: the run is partial (exit 3), never success.
    assert_exit(&out, 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GET /v2/workbooks")
            && stderr.contains("65536 bytes (64 KiB)")
            && stderr.contains("maxResponseBytes"),
        "{stderr}"
    );
    assert!(!stderr.contains("the-client-secret") && !stderr.contains("the-access-token"));
    assert_eq!(server.requests_to("/v2/workbooks"), 1, "retried: {stderr}");
    assert!(!dir.path().join("out.jsonl").exists());
    assert!(!stderr.contains("panicked"), "{stderr}");
}
