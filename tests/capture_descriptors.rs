//! Running out of file descriptors neither crashes the capture server nor stops it: once
//! descriptors are free again, it answers.

mod common;
use common::capture::{DEMO_FORM, LANDING};
use common::process::spawn_listening;
use common::*;
use std::io::Read;
use std::process::{Command, Stdio};
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
    let stderr = site.root().join("stderr.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_splitmark"));
    cmd.args(["capture", "--root"])
        .arg(site.root())
        .args(["--bind", "127.0.0.1:0", "--db", &db])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap());
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
    let (child, base) = spawn_listening(&mut cmd);
    let mut child = KillOnDrop(child);
    let addr = base.trim_start_matches("http://");

    // More connections than the server has descriptors for (it may have 128; a few dozen more wait in the backlog).
    let mut held = Vec::new();
    for _ in 0..160 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    let log_says = |what: &str| {
        let mut text = String::new();
        std::fs::File::open(&stderr)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text.contains(what)
    };
    let waited = Instant::now();
    while !log_says("cannot accept a connection") && waited.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        log_says("cannot accept a connection"),
        "the descriptor limit was never reached"
    );
    assert!(child.0.try_wait().unwrap().is_none(), "the server died");
    drop(held);
    // Descriptors are free again: the server answers.
    let r = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(child.0.try_wait().unwrap().is_none(), "the server died");
}

/// Kills the spawned server when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
