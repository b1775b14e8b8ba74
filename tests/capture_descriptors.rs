//! Running out of file descriptors neither crashes the capture server nor stops it: once
//! descriptors are free again, it answers.

mod common;
use common::capture::{DEMO_FORM, LANDING};
use common::process::CaptureProcess;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn running_out_of_descriptors_neither_crashes_nor_stops_the_server() {
    let site = Site::new(&[
        (
            "splitmark.toml",
            &format!("{CONFIG}\n[capture]\nheader_timeout_secs = 60\n{DEMO_FORM}"),
        ),
        ("content/landing.md", LANDING),
    ]);
    site.build_ok();
    let db = format!("sqlite:{}", site.root().join("data/leads.db").display());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_splitmark"));
    cmd.args(["capture", "--root"])
        .arg(site.root())
        .args(["--bind", "127.0.0.1:0", "--db", &db]);
    // SAFETY: setrlimit is async-signal-safe, as code between fork and exec must be.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 128,
                rlim_max: 128,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut server = CaptureProcess::spawn(&mut cmd);
    let addr = server.addr.clone();

    // More connections than the server has descriptors for (it may have 128; a few dozen more wait in the backlog).
    let mut held = Vec::new();
    for _ in 0..160 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    let waited = Instant::now();
    while !server.logged("cannot accept a connection") && waited.elapsed() < Duration::from_secs(20)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        server.logged("cannot accept a connection"),
        "the descriptor limit was never reached"
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server died"
    );
    drop(held);
    // Descriptors are free again: the server answers.
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", server.base()))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server died"
    );
}
