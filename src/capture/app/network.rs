//! What the app takes from the connection: the resolved client, the body timeout, and
//! `/metrics`, which is for the admin token (or for the separate metrics listener).

use super::App;
use crate::capture::client::Client;
use crate::capture::http::{with_type, Body};
use crate::capture::server::{Handler, ResponseFuture};
use crate::capture::settings::Settings;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Version};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

impl App {
    /// The `[capture]` settings the app runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The client of a request from `peer`: resolved once, used by every handler.
    pub(super) fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> Client {
        self.settings
            .network
            .trusted_proxies
            .resolve(peer.ip(), headers)
    }

    /// How long a request body may take to arrive.
    pub(super) fn body_timeout(&self) -> Duration {
        self.settings.network.limits.body_timeout
    }

    /// The Prometheus text, whatever asked for it.
    async fn metrics_text(&self) -> Response<Body> {
        with_type(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            self.metrics.render(&self.store.commit_stats()) + &self.delivery_metrics().await,
        )
    }

    /// `/metrics` on the main listener: it counts leads, so it needs the admin token.
    pub(super) async fn metrics_for_admin(
        &self,
        req: &Request<Incoming>,
        peer: crate::capture::client::Client,
    ) -> Response<Body> {
        match self
            .authorize(req, peer, crate::users::Action::ReadMetrics)
            .await
        {
            Err(refused) => refused,
            Ok(_) => self.metrics_text().await,
        }
    }
}

/// A 408 leaves an unread body behind: an HTTP/1 connection cannot be reused after it.
/// (HTTP/2 has no `Connection` header; the stream alone ends there.)
pub(super) fn close_after_timeout(res: &mut Response<Body>, version: Version) {
    if res.status() == StatusCode::REQUEST_TIMEOUT && version < Version::HTTP_2 {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// The separate metrics listener (`[capture] metrics_bind`): `GET /metrics` without a
/// token, as Prometheus exporters serve it, and nothing else.
pub struct MetricsListener(pub Arc<App>);

impl Handler for MetricsListener {
    fn handle(self: Arc<Self>, req: Request<Incoming>, _peer: SocketAddr) -> ResponseFuture {
        Box::pin(async move {
            match (req.method(), req.uri().path()) {
                (&Method::GET, "/metrics") => self.0.metrics_text().await,
                _ => crate::capture::http::error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "this listener serves GET /metrics only",
                ),
            }
        })
    }
}
