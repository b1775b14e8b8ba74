//! Idle HTTP/1.1 connections kept for the next attempt to the same receiver.
//!
//! A connection is filed under the address it is connected to, the host name it was opened
//! for (the `Host` header and, over TLS, the name its certificate was verified against) and
//! the scheme. [`super::http`] still resolves and vets the host on every attempt and asks the
//! pool only for the addresses that just passed, so a name whose DNS moved to another address
//! (or to a refused one) never gets the old connection: the SSRF check decides each attempt,
//! the pool only saves the handshake. Connections idle longer than [`IDLE_TIMEOUT`] are
//! dropped, well before most servers close theirs, so an attempt rarely meets a connection the
//! receiver is closing.

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an unused connection is kept. Shorter than common servers' keep-alive timeouts
/// (Node.js 5 s, nginx 75 s, Go none), so a server rarely closes one as we pick it up.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// Most idle connections kept per key (a receiver answering many attempts at once).
pub const MAX_IDLE_PER_KEY: usize = 64;

/// Where a connection goes: it is reused only for the same address, host and scheme.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Key {
    /// The vetted address the socket is connected to.
    pub addr: SocketAddr,
    /// The URL's host, as sent in `Host` and verified by TLS.
    pub host: String,
    /// Whether the connection speaks TLS.
    pub https: bool,
}

/// An open HTTP/1.1 connection: the request side and the task driving the socket, which ends
/// with the connection (dropping this aborts it).
pub struct Conn {
    /// Sends requests.
    pub sender: SendRequest<Full<Bytes>>,
    driver: tokio::task::JoinHandle<()>,
}

impl Conn {
    /// A connection whose socket is driven by `driver`.
    pub fn new(sender: SendRequest<Full<Bytes>>, driver: tokio::task::JoinHandle<()>) -> Conn {
        Conn { sender, driver }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// The idle connections of one client.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<Key, Vec<Idle>>>,
}

impl Pool {
    /// The most recently used live connection filed under `key`, if any; closed and expired
    /// ones found on the way are dropped.
    pub fn take(&self, key: &Key) -> Option<Conn> {
        let mut idle = self.idle.lock().expect("connection pool");
        let list = idle.get_mut(key)?;
        let now = Instant::now();
        let found = loop {
            match list.pop() {
                None => break None,
                Some(i) if now - i.since >= IDLE_TIMEOUT || !i.conn.sender.is_ready() => {}
                Some(i) => break Some(i.conn),
            }
        };
        if list.is_empty() {
            idle.remove(key);
        }
        found
    }

    /// Files `conn` under `key` for the next attempt, if it is ready for another request.
    pub fn put(&self, key: Key, conn: Conn) {
        if !conn.sender.is_ready() {
            return;
        }
        let mut idle = self.idle.lock().expect("connection pool");
        let now = Instant::now();
        // Expired connections of every key go now, so a receiver seen once holds no socket.
        idle.retain(|_, list| {
            list.retain(|i| now - i.since < IDLE_TIMEOUT);
            !list.is_empty()
        });
        let list = idle.entry(key).or_default();
        if list.len() < MAX_IDLE_PER_KEY {
            list.push(Idle { conn, since: now });
        }
    }

    /// Idle connections held now (all keys).
    pub fn idle(&self) -> usize {
        self.idle
            .lock()
            .expect("connection pool")
            .values()
            .map(Vec::len)
            .sum()
    }
}
