//! One SMTP session over a socket we open ourselves, so it can set `TCP_NODELAY`.
//!
//! lettre writes a message's body and its closing `\r\n.\r\n` in two writes. With Nagle's
//! algorithm on, the second, small write waits until the server acknowledges the first, and a
//! server that delays its ACKs (Linux: ~40 ms) makes every e-mail that much slower. lettre's
//! transport offers no option for it, so we connect, set the option, add TLS the way the URL
//! says (implicit TLS here, STARTTLS through lettre) and hand the stream to
//! [`AsyncSmtpConnection`].

use super::http::default_roots;
use super::smtp::{Security, SmtpUrl};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Why a session failed: the SMTP reply code, when the server gave one, and a message.
#[derive(Debug)]
pub struct SendError {
    /// The server's reply code (e.g. 550), if the failure was an SMTP reply.
    pub status: Option<u16>,
    /// What went wrong, for the delivery log.
    pub message: String,
}

impl SendError {
    fn other(message: impl Into<String>) -> SendError {
        SendError {
            status: None,
            message: message.into(),
        }
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(err: lettre::transport::smtp::Error) -> SendError {
        SendError {
            status: err.status().and_then(|c| c.to_string().parse().ok()),
            message: err.to_string(),
        }
    }
}

/// Sends `mail` through `url`; `connect_timeout` bounds opening the TCP connection. Returns
/// the server's reply code to the message (2xx).
pub async fn send(
    url: &SmtpUrl,
    mail: &lettre::Message,
    connect_timeout: Duration,
) -> Result<u16, SendError> {
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    let tcp = connect(host, url.port, connect_timeout).await?;
    let hello = ClientId::default();
    let stream: Box<dyn AsyncTokioStream> = match url.security {
        Security::Implicit => Box::new(implicit_tls(host, tcp).await?),
        Security::StartTls | Security::Plain => Box::new(tcp),
    };
    let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &hello).await?;
    if url.security == Security::StartTls {
        // Required, never opportunistic: `starttls` fails when the server does not offer it.
        let tls = TlsParameters::new(host.to_owned())?;
        conn.starttls(tls, &hello).await?;
    }
    if let Some((user, password)) = url.user() {
        let credentials = Credentials::new(user.to_owned(), password.to_owned());
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .await?;
    }
    let response = conn.send(mail.envelope(), &mail.formatted()).await?;
    // The message is accepted; a failed QUIT changes nothing.
    let _ = conn.quit().await;
    Ok(response.code().to_string().parse().unwrap_or(250))
}

/// A TCP connection to the first of `host`'s addresses that answers, with `TCP_NODELAY`.
pub(crate) async fn connect(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, SendError> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| SendError::other(format!("cannot resolve {host}: {e}")))?;
    let mut last = format!("{host} has no address");
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                tcp.set_nodelay(true)
                    .map_err(|e| SendError::other(format!("TCP_NODELAY: {e}")))?;
                return Ok(tcp);
            }
            Ok(Err(e)) => last = format!("cannot connect to {addr}: {e}"),
            Err(_) => last = format!("no connection to {addr} within {} s", timeout.as_secs_f64()),
        }
    }
    Err(SendError::other(last))
}

async fn implicit_tls(host: &str, tcp: TcpStream) -> Result<TlsTcp, SendError> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| SendError::other(format!("TLS: {e}")))?
    .with_root_certificates(default_roots())
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| SendError::other(format!("TLS: {host} is not a server name ({e})")))?;
    let peer = tcp
        .peer_addr()
        .map_err(|e| SendError::other(e.to_string()))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| SendError::other(format!("TLS with {host}: {e}")))?;
    Ok(TlsTcp { tls, peer })
}

/// An implicit-TLS stream in the shape lettre takes.
#[derive(Debug)]
struct TlsTcp {
    tls: tokio_rustls::client::TlsStream<TcpStream>,
    peer: SocketAddr,
}

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

impl AsyncRead for TlsTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_socket_has_nagle_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tcp = connect("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(tcp.nodelay().unwrap());
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_naming_the_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = connect("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            err.message.contains(&format!("127.0.0.1:{port}")),
            "{err:?}"
        );
        assert_eq!(err.status, None);
    }
}
