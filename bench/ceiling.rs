//! The benchmark ceiling: a bare hyper server that answers every request with 204 and does
//! nothing else. `bench/capture.sh` reports the capture server's throughput as a ratio to it.
//!
//!     cargo run --release --example ceiling -- 127.0.0.1:18080

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18080".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("ceiling listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                // Read the body like a real handler would, then answer.
                let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                let mut res = Response::new(http_body_util::Empty::<bytes::Bytes>::new());
                *res.status_mut() = StatusCode::NO_CONTENT;
                Ok::<_, std::convert::Infallible>(res)
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
