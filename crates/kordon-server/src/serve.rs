//! The transport: how connections are taken and how long a client may hold one.
//!
//! Everything a client can hold open is bounded (issue 15): at most `max_connections`
//! connections at once (and never more than the process's file descriptors allow, with a
//! reserve for the log, the database and the blobs), at most `max_connections_per_peer`
//! from one address, and a connection that does not send a whole request head within
//! `header_read_timeout_s` — a fresh one, or a kept-alive one between requests — is
//! closed. A connection over a cap is accepted and closed at once (counted in
//! `kordon_connections_refused_total{reason}`), so the listen queue never fills with
//! them. Request bodies have their own limits where they are read (uploads: an idle
//! timeout and a minimum rate). HTTP/1.1 only: kordon's clients speak it, and HTTP/2's
//! streams would need limits of their own.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt as _;

use crate::config::Config;

/// File descriptors kept for everything that is not a client connection.
const FD_RESERVE: u64 = 512;

/// The limits on client connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one address.
    pub max_connections_per_peer: usize,
    /// Time to send a whole request head, on a new connection or between requests.
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&Config::default())
    }
}

impl From<&Config> for Limits {
    fn from(c: &Config) -> Self {
        Limits {
            max_connections: c.max_connections,
            max_connections_per_peer: c.max_connections_per_peer,
            header_read_timeout: Duration::from_secs(c.header_read_timeout_s),
        }
    }
}

impl Limits {
    /// These limits within the file descriptors this process may open (raising its soft
    /// limit to the hard one first), keeping [`FD_RESERVE`] for storage.
    #[must_use]
    pub fn within_fd_limit(mut self) -> Self {
        let fds = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        let room = usize::try_from(fds.saturating_sub(FD_RESERVE).max(16)).unwrap_or(usize::MAX);
        if self.max_connections > room {
            tracing::warn!(
                configured = self.max_connections,
                allowed = room,
                fds,
                "max_connections lowered to what the file descriptor limit leaves"
            );
            self.max_connections = room;
        }
        self
    }
}

/// Connections open per peer address; a slot is given back when its guard drops.
#[derive(Default)]
struct Peers(Mutex<HashMap<IpAddr, usize>>);

struct PeerSlot(Arc<Peers>, IpAddr);

impl Peers {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = m.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot(self.clone(), ip))
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut m = (self.0)
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets
/// the requests in progress finish.
///
/// # Errors
/// IO errors from the listener's address.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = limits.within_fd_limit();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let peers = Arc::new(Peers::default());
    let (close_tx, close_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors or a connection reset before it was taken: wait a
                // moment rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            metrics::counter!("kordon_connections_refused_total", "reason" => "total").increment(1);
            continue;
        };
        let Some(slot) = peers.take(peer.ip(), limits.max_connections_per_peer) else {
            metrics::counter!("kordon_connections_refused_total", "reason" => "peer").increment(1);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            peer,
            router.clone(),
            limits,
            close_rx.clone(),
            (permit, slot),
        ));
    }
    drop(close_rx);
    drop(listener);
    let _ = close_tx.send(());
    close_tx.closed().await;
    Ok(())
}

/// One connection, until it ends or the server shuts down.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut close: watch::Receiver<()>,
    held: (OwnedSemaphorePermit, PeerSlot),
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
        }
        _ = close.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
    drop(held);
}
