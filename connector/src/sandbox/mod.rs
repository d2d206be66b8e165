//! A local emulator of Sigma's REST API v2 over real HTTP on loopback, serving a fixture org
//! or a generated one, with knobs for latency, rate limits, faults and permission failures.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sigma_connector::sandbox::SandboxError> {
//! use sigma_connector::sandbox::{Sandbox, SandboxConfig};
//! let handle = Sandbox::start(SandboxConfig::default()).await?;
//! println!("{} {}", handle.base_url(), handle.client_id());
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See `docs/sandbox.md` for what is served and where it differs from Sigma.

mod auth;
mod corruption;
mod data_models;
mod documents;
mod entities;
mod error;
mod files;
pub mod fixtures;
pub mod generate;
pub mod knobs;
pub mod org;
mod paging;
mod server;
mod state;
mod stats;
pub mod surface;
mod tokens;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;

pub use generate::SyntheticConfig;
pub use knobs::{Corruption, Fault, Knobs, ODD_UNICODE, PageTokenStyle};
pub use org::Org;
pub use paging::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
pub use stats::Stats;
pub use surface::ApiSurface;

/// Credentials the sandbox accepts unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "sandbox-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-client-secret";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    #[error("fixture {file}: {message}")]
    Fixture { file: String, message: String },
    // The OS error is in the message and deliberately not a `source`: printed with its
    // chain (`{:#}`), it would appear twice.
    #[error("cannot listen on {addr}: {reason}; choose another --port, or 0 for any free port")]
    Bind {
        addr: SocketAddr,
        reason: std::io::Error,
    },
}

/// Which org to serve.
#[derive(Debug, Clone, Default)]
pub enum OrgSource {
    /// The hand-built org compiled into the binary (`fixtures/`).
    #[default]
    Fixtures,
    /// A directory laid out like `fixtures/`.
    FixtureDir(PathBuf),
    Synthetic(SyntheticConfig),
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub org: OrgSource,
    /// 0 picks an ephemeral port.
    pub port: u16,
    pub client_id: String,
    pub client_secret: String,
    pub knobs: Knobs,
    /// Today's Sigma (default) or the older surface.
    pub api: ApiSurface,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            org: OrgSource::Fixtures,
            port: 0,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            knobs: Knobs::default(),
            api: ApiSurface::default(),
        }
    }
}

pub struct Sandbox;

impl Sandbox {
    /// Builds the org and starts serving on loopback. Returns once the port is bound.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        let org = match &config.org {
            OrgSource::Fixtures => fixtures::embedded_org()?,
            OrgSource::FixtureDir(dir) => fixtures::org_from_dir(dir)?,
            OrgSource::Synthetic(shape) => generate::generate(shape),
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|reason| SandboxError::Bind { addr, reason })?;
        let local_addr = listener
            .local_addr()
            .map_err(|reason| SandboxError::Bind { addr, reason })?;
        let state = Arc::new(state::AppState::new(
            Arc::new(org),
            config.api,
            config.client_id,
            config.client_secret,
            config.knobs,
        ));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let accept_loop = tokio::spawn(serve(listener, state.clone(), shutdown_rx));
        Ok(SandboxHandle {
            addr: local_addr,
            state,
            shutdown_tx,
            accept_loop,
        })
    }
}

/// Accepts connections until shutdown. A hand-written loop rather than `axum::serve` so a
/// request can drop its connection on purpose (fault injection) and so hanging requests are
/// aborted at shutdown instead of holding it up.
async fn serve(
    listener: TcpListener,
    state: Arc<state::AppState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = server::router(state.clone());
    let mut connections = JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "sandbox accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let state = state.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut router = router.clone();
                    let state = state.clone();
                    async move {
                        let _in_flight = state.stats.enter();
                        let response = router
                            .call(request.map(axum::body::Body::new))
                            .await
                            .unwrap_or_else(|never| match never {});
                        if response
                            .extensions()
                            .get::<error::DropConnection>()
                            .is_some()
                        {
                            // An error from the service makes hyper close the connection unanswered.
                            return Err(std::io::Error::other("injected connection drop"));
                        }
                        Ok(response)
                    }
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            // Errors here are client disconnects and injected drops: nothing to report.
            let _ = connection.await;
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// A running sandbox. Dropping it without [`shutdown`](Self::shutdown) leaves the server
/// running until the runtime ends.
pub struct SandboxHandle {
    addr: SocketAddr,
    state: Arc<state::AppState>,
    shutdown_tx: watch::Sender<bool>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT`: the connector's `hostPort` (the API is under `/v2`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn client_id(&self) -> &str {
        &self.state.client_id
    }
    pub fn client_secret(&self) -> &str {
        &self.state.client_secret
    }
    pub fn org(&self) -> &Org {
        &self.state.org
    }
    pub fn stats(&self) -> Stats {
        self.state.stats.snapshot()
    }
    pub fn reset_stats(&self) {
        self.state.stats.reset();
    }
    pub fn knobs(&self) -> Knobs {
        self.state.knobs().clone()
    }
    /// Changes knobs while serving; applies to requests that arrive afterwards.
    pub fn update_knobs(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.state.knobs.write().unwrap_or_else(|e| e.into_inner()));
    }
    /// Restarts fault injection's request numbering, so a test can replay a fault sequence.
    pub fn reset_fault_sequence(&self) {
        self.state
            .api_sequence
            .store(0, std::sync::atomic::Ordering::SeqCst);
    }
    /// Moves the sandbox's clock (token expiry, the rate limit's bucket) forward: tokens
    /// expire and the bucket refills without the test sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }
    /// Stops the sandbox's clock: from now on only [`Self::advance_clock`] moves it, so a
    /// test of token expiry or of the rate limit sees the same answers however fast or slow
    /// the machine is.
    pub fn freeze_clock(&self) {
        self.state.clock.freeze();
    }
    /// Stops accepting, aborts open connections (including hanging ones) and waits.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ = self.accept_loop.await;
    }
}
