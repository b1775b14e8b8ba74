//! Live reload for `splitmark serve`: one Server-Sent Events stream on the site's own port.
//!
//! Each rebuild broadcasts `reload` (or `build-error` with the message) to every open page.
//! A page opened while the last build failed gets the error at once, so the overlay shows
//! even after a manual refresh.

use super::http::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{header, Response};
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// Path of the event stream.
pub const ENDPOINT: &str = "/__splitmark/livereload";

/// The script injected into HTML pages in serve mode; errors are shown with `textContent`,
/// so a message containing markup is displayed, never interpreted.
pub const SCRIPT: &str = r#"<script>(()=>{const es=new EventSource("/__splitmark/livereload");let box;es.addEventListener("reload",()=>location.reload());es.addEventListener("build-error",e=>{box=box||document.body.appendChild(document.createElement("pre"));box.id="splitmark-error";box.setAttribute("role","alert");box.style.cssText="position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;margin:0;padding:1rem;background:#2b0b0e;color:#ffd7d7;font:13px/1.4 ui-monospace,monospace;white-space:pre-wrap;z-index:2147483647";box.textContent="Build failed — showing the last good build.\n\n"+JSON.parse(e.data)})})();</script>"#;

/// What the browser is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The site was rebuilt: reload.
    Reload,
    /// The build failed with this message.
    BuildError(String),
}

/// The broadcast hub of one dev server.
#[derive(Clone)]
pub struct LiveReload {
    tx: broadcast::Sender<Event>,
    last_error: Arc<RwLock<Option<String>>>,
}

impl Default for LiveReload {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveReload {
    /// A hub with no listeners.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(16);
        LiveReload {
            tx,
            last_error: Arc::new(RwLock::new(None)),
        }
    }

    /// Tells every open page about a build result.
    pub fn publish(&self, event: Event) {
        let err = match &event {
            Event::Reload => None,
            Event::BuildError(m) => Some(m.clone()),
        };
        *self.last_error.write().expect("live reload state") = err;
        let _ = self.tx.send(event);
    }

    /// Subscribes to events (tests and the SSE stream).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// The SSE response for one browser tab.
    pub fn stream(&self) -> Response<Body> {
        let rx = self.tx.subscribe();
        let first = self
            .last_error
            .read()
            .expect("live reload state")
            .clone()
            .map(Event::BuildError);
        let stream = futures_util::stream::unfold(
            (rx, first, true),
            |(mut rx, pending, hello)| async move {
                if hello {
                    // A comment line opens the stream at once so proxies do not buffer it.
                    return Some((
                        Ok::<_, Infallible>(Frame::data(Bytes::from_static(b": connected\n\n"))),
                        (rx, pending, false),
                    ));
                }
                let event = match pending {
                    Some(e) => e,
                    None => match rx.recv().await {
                        Ok(e) => e,
                        // A tab that fell behind only needs to reload once.
                        Err(broadcast::error::RecvError::Lagged(_)) => Event::Reload,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                };
                Some((
                    Ok(Frame::data(Bytes::from(encode(&event)))),
                    (rx, None, false),
                ))
            },
        );
        let mut res = Response::new(StreamBody::new(stream).boxed());
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/event-stream"),
        );
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-cache"),
        );
        res
    }
}

/// One SSE message.
pub fn encode(event: &Event) -> String {
    match event {
        Event::Reload => "event: reload\ndata: {}\n\n".to_owned(),
        Event::BuildError(m) => format!(
            "event: build-error\ndata: {}\n\n",
            serde_json::to_string(m).unwrap_or_default()
        ),
    }
}

/// Adds the live-reload script before `</body>` (or at the end).
pub fn inject(html: &str) -> String {
    match html.rfind("</body>") {
        Some(i) => format!("{}{SCRIPT}{}", &html[..i], &html[i..]),
        None => format!("{html}{SCRIPT}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_json_encoded_on_one_data_line() {
        let s = encode(&Event::BuildError("a\n<b>".into()));
        assert_eq!(s, "event: build-error\ndata: \"a\\n<b>\"\n\n");
    }

    #[test]
    fn script_goes_before_body_end() {
        let out = inject("<html><body>x</body></html>");
        assert!(out.ends_with(&format!("x{SCRIPT}</body></html>")));
    }
}
