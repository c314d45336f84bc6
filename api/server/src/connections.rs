//! The connection loop: HTTP/1 connections accepted and served as `axum::serve` does, with what
//! it lacks against slow or greedy clients:
//!
//! - a header-read timeout (`Settings::header_read_timeout`, 10 s by default): a client that
//!   opens a connection and sends a
//!   request's head byte by byte (slowloris) is disconnected, instead of holding the
//!   connection and its task for ever;
//! - a limit on the connections open at once from one address ([`PER_ADDRESS`]): past it, a new
//!   connection from that address is closed at once, so one client cannot take every socket
//!   the process may open.
//!
//! A graceful shutdown stops accepting, lets every connection finish its request in flight, and
//! waits for them.

use std::future::Future;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::places::Places;

/// Connections one address may hold open at once.
pub const PER_ADDRESS: usize = 128;

/// The connections open, per address.
type Open = Places<IpAddr>;

/// Serves `router` on `listener` until `shutdown` resolves, then drains the connections. A
/// client that takes longer than `header_read` to send a request's head is disconnected.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (signal_tx, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(signal_rx);
    });
    let (close_tx, close_rx) = watch::channel(());
    let open = Arc::new(Open::default());
    let mut refused_logged = std::time::Instant::now() - Duration::from_secs(60);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = signal_tx.closed() => break,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, or a connection reset before it was accepted: the
                // listener itself is fine.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(place) = open.take(&remote.ip(), PER_ADDRESS, usize::MAX) else {
            if refused_logged.elapsed() > Duration::from_secs(10) {
                tracing::warn!(address = %remote.ip(), limit = PER_ADDRESS, "an address holds as many connections as one may: closing its new ones");
                refused_logged = std::time::Instant::now();
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let signal_tx = signal_tx.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            let _place = place;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read);
            let mut conn = pin!(builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades());
            // Fused: once the signal came, it stays pending while the connection drains.
            let mut signal = pin!(futures::FutureExt::fuse(signal_tx.closed()));
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = &mut signal => conn.as_mut().graceful_shutdown(),
                }
            }
            drop(close_rx);
        });
    }
    drop(close_rx);
    drop(listener);
    close_tx.closed().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_and_gives_places_back() {
        let open = Arc::new(Open::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let admit = |ip: IpAddr| open.take(&ip, PER_ADDRESS, usize::MAX).ok();
        let places: Vec<_> = (0..PER_ADDRESS).map(|_| admit(a).unwrap()).collect();
        assert!(admit(a).is_none());
        assert!(admit(b).is_some(), "another address is not held back");
        drop(places);
        assert!(admit(a).is_some());
        assert!(open.keys() <= 1);
    }
}
