//! An HTTP client that reaches only addresses the SSRF policy allows.
//!
//! Each attempt resolves the host afresh, vets every address with [`guard::refusal`] and opens
//! the TCP connection to a vetted address itself; TLS (rustls, Mozilla roots) and HTTP/1.1
//! (hyper) then run over that very socket. A finished connection is kept in a small pool
//! ([`super::pool`]) filed under its address, host and scheme, and an attempt reuses one only
//! for an address it has just resolved and vetted. There is no proxy and no redirect handling,
//! so nothing else ever chooses where the request goes. A 3xx is answered like any other
//! failure. Every socket has `TCP_NODELAY`: a request is one small write that should leave at
//! once.

use super::guard;
use super::pool::{self, Conn, Pool};
use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// How long an attempt may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake (5 s).
    pub connect: Duration,
    /// The whole attempt, from resolving to the response status (15 s).
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(15),
        }
    }
}

/// A future resolving a host and port to addresses.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Resolves `(host, port)`; the default asks the system resolver. Tests give a fixed table,
/// to show that a name resolving to a refused address is refused.
pub type Resolver = Arc<dyn Fn(&str, u16) -> Resolving + Send + Sync>;

/// The system resolver.
pub fn system_resolver() -> Resolver {
    Arc::new(|host: &str, port: u16| {
        let host = host.to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    })
}

/// Why a request was not answered with a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The policy forbids the destination: do not retry.
    Refused(String),
    /// Anything else (DNS, connect, TLS, timeout, protocol): worth retrying.
    Failed(String),
}

/// The guarded client. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    allow_private: bool,
    timeouts: Timeouts,
    resolver: Resolver,
    tls: tokio_rustls::TlsConnector,
    user_agent: HeaderValue,
    pool: Arc<Pool>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("allow_private", &self.allow_private)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// `splitmark/<version>`.
pub fn user_agent() -> String {
    format!("splitmark/{}", env!("CARGO_PKG_VERSION"))
}

/// Mozilla's root certificates (compiled in, so a bare machine verifies the same way).
pub fn default_roots() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

fn tls_config(roots: rustls::RootCertStore) -> rustls::ClientConfig {
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

impl HttpClient {
    /// A client with the system resolver.
    pub fn new(allow_private: bool, timeouts: Timeouts) -> HttpClient {
        HttpClient {
            allow_private,
            timeouts,
            resolver: system_resolver(),
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls_config(default_roots()))),
            user_agent: HeaderValue::from_str(&user_agent()).expect("ASCII user agent"),
            pool: Arc::new(Pool::default()),
        }
    }

    /// Idle connections kept for reuse now.
    pub fn idle_connections(&self) -> usize {
        self.pool.idle()
    }

    /// The same client resolving with `resolver`.
    pub fn with_resolver(mut self, resolver: Resolver) -> HttpClient {
        self.resolver = resolver;
        self
    }

    /// The same client with other timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> HttpClient {
        self.timeouts = timeouts;
        self
    }

    /// The same client trusting `roots` instead of Mozilla's (a private CA; tests).
    pub fn with_roots(mut self, roots: rustls::RootCertStore) -> HttpClient {
        self.tls = tokio_rustls::TlsConnector::from(Arc::new(tls_config(roots)));
        self
    }

    /// POSTs `body` with `headers` to `url` and returns the response status. The body of the
    /// response is not read: the status is the answer.
    pub async fn post(
        &self,
        url: &url::Url,
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> Result<StatusCode, HttpError> {
        match tokio::time::timeout(self.timeouts.total, self.post_inner(url, headers, body)).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Failed(format!(
                "no answer within {} s",
                self.timeouts.total.as_secs_f64()
            ))),
        }
    }

    /// The addresses of `url`'s host that the policy allows, or why there are none.
    pub async fn vetted_addresses(&self, url: &url::Url) -> Result<Vec<SocketAddr>, HttpError> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| HttpError::Refused(format!("{url} has no port")))?;
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(d)) => (self.resolver)(d, port)
                .await
                .map_err(|e| HttpError::Failed(format!("cannot resolve {d}: {e}")))?,
            None => return Err(HttpError::Refused(format!("{url} has no host"))),
        };
        let mut first_refusal = None;
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match guard::refusal(a.ip(), self.allow_private) {
                None => true,
                Some(why) => {
                    first_refusal.get_or_insert((a.ip(), why));
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), first_refusal) {
            (false, _) => Ok(allowed),
            (true, Some((ip, why))) => {
                let host = url.host_str().unwrap_or_default();
                Err(HttpError::Refused(format!(
                    "{host} resolves to a refused address: {ip} is {why}{}",
                    guard::hint(ip, self.allow_private)
                )))
            }
            (true, None) => Err(HttpError::Failed(format!(
                "{} resolves to no address",
                url.host_str().unwrap_or_default()
            ))),
        }
    }

    async fn connect(&self, addrs: &[SocketAddr]) -> Result<(SocketAddr, TcpStream), HttpError> {
        let mut last = String::new();
        for addr in addrs {
            match tokio::time::timeout(self.timeouts.connect, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    // Belt and braces: the socket's peer is the address we vetted.
                    let peer = s.peer_addr().ok();
                    if peer.map(|p| (p.ip(), p.port())) != Some((addr.ip(), addr.port())) {
                        return Err(HttpError::Refused(format!(
                            "connected elsewhere than {addr}"
                        )));
                    }
                    let _ = s.set_nodelay(true);
                    return Ok((*addr, s));
                }
                Ok(Err(e)) => last = format!("cannot connect to {addr}: {e}"),
                Err(_) => {
                    last = format!(
                        "connecting to {addr} took over {} s",
                        self.timeouts.connect.as_secs_f64()
                    )
                }
            }
        }
        Err(HttpError::Failed(last))
    }

    async fn post_inner(
        &self,
        url: &url::Url,
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> Result<StatusCode, HttpError> {
        let addrs = self.vetted_addresses(url).await?;
        let host = url.host_str().unwrap_or_default();
        let https = url.scheme() == "https";
        let mut req = self.request(url, headers, body)?;
        // A kept connection, only to an address that has just passed the check.
        for addr in &addrs {
            let key = pool::Key {
                addr: *addr,
                host: host.to_owned(),
                https,
            };
            while let Some(mut conn) = self.pool.take(&key) {
                match conn.sender.try_send_request(req).await {
                    Ok(res) => return Ok(self.finish(res, conn, key)),
                    // The receiver closed it before the request went out: nothing was sent,
                    // so sending on another connection is still this one attempt.
                    Err(mut e) => match e.take_message() {
                        Some(back) => req = back,
                        None => {
                            return Err(HttpError::Failed(format!(
                                "request failed on a kept connection: {}",
                                e.error()
                            )))
                        }
                    },
                }
            }
        }
        let (addr, tcp) = self.connect(&addrs).await?;
        let mut conn = if https {
            let name = rustls::pki_types::ServerName::try_from(
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
            )
            .map_err(|e| HttpError::Refused(format!("{host} is not a TLS server name: {e}")))?;
            let tls = tokio::time::timeout(self.timeouts.connect, self.tls.connect(name, tcp))
                .await
                .map_err(|_| HttpError::Failed(format!("TLS handshake with {host} timed out")))?
                .map_err(|e| HttpError::Failed(format!("TLS with {host} failed: {e}")))?;
            handshake(TokioIo::new(tls)).await?
        } else {
            handshake(TokioIo::new(tcp)).await?
        };
        let res = conn
            .sender
            .send_request(req)
            .await
            .map_err(|e| HttpError::Failed(format!("request failed: {e}")))?;
        let key = pool::Key {
            addr,
            host: host.to_owned(),
            https,
        };
        Ok(self.finish(res, conn, key))
    }

    /// The request of one attempt: `POST` of `body` with `headers`.
    fn request(
        &self,
        url: &url::Url,
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, HttpError> {
        let host = url.host_str().unwrap_or_default();
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut req = Request::post(path)
            .header(hyper::header::HOST, host_header)
            .header(hyper::header::USER_AGENT, self.user_agent.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| HttpError::Refused(format!("cannot build a request for {url}: {e}")))?;
        for (name, value) in headers {
            let value = HeaderValue::from_str(value)
                .map_err(|_| HttpError::Refused(format!("header {name} is not valid text")))?;
            req.headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
        Ok(req)
    }

    /// The status is the answer. The body is read after the attempt is over, in its own task
    /// (bounded in size and time), so a receiver that answers 200 and then dawdles over its
    /// body cannot turn a delivery into a timeout; only a connection whose body ended in time
    /// is kept.
    fn finish(&self, res: hyper::Response<Incoming>, mut conn: Conn, key: pool::Key) -> StatusCode {
        let status = res.status();
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let drained = tokio::time::timeout(DRAIN_TIME, async {
                http_body_util::Limited::new(res.into_body(), DRAIN_LIMIT)
                    .collect()
                    .await
                    .is_ok()
                    && conn.sender.ready().await.is_ok()
            })
            .await;
            if drained == Ok(true) {
                pool.put(key, conn);
            }
        });
        status
    }
}

/// Most of a response body read to keep its connection; a longer body closes it.
const DRAIN_LIMIT: usize = 64 * 1024;
/// How long a response body may take to end for its connection to be kept.
const DRAIN_TIME: Duration = Duration::from_secs(5);

async fn handshake<T>(io: TokioIo<T>) -> Result<Conn, HttpError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| HttpError::Failed(format!("HTTP handshake failed: {e}")))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Conn::new(sender, driver))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(addr: &'static str) -> Resolver {
        Arc::new(move |_h: &str, port: u16| {
            let ip: IpAddr = addr.parse().unwrap();
            Box::pin(async move { Ok(vec![SocketAddr::new(ip, port)]) })
        })
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let client = HttpClient::new(false, Timeouts::default()).with_resolver(fixed("10.1.2.3"));
        let url = url::Url::parse("https://hooks.example.test/x").unwrap();
        match client.vetted_addresses(&url).await {
            Err(HttpError::Refused(why)) => assert!(why.contains("10.1.2.3"), "{why}"),
            other => panic!("{other:?}"),
        }
        let open = HttpClient::new(true, Timeouts::default()).with_resolver(fixed("10.1.2.3"));
        assert_eq!(open.vetted_addresses(&url).await.unwrap().len(), 1);
        let metadata =
            HttpClient::new(true, Timeouts::default()).with_resolver(fixed("169.254.169.254"));
        assert!(matches!(
            metadata.vetted_addresses(&url).await,
            Err(HttpError::Refused(_))
        ));
    }
}
