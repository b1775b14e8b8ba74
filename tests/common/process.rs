//! The real `splitmark capture` binary as a child process: its address, its log, and a guard
//! that kills it when the test ends.

use super::Site;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The admin token the child runs with.
pub const TOKEN: &str = "t";

/// Spawns `cmd` (a `splitmark capture … --bind 127.0.0.1:0` with its stdout piped) and
/// reads the first line it prints; returns the child and the `http://host:port` it listens on.
pub fn spawn_listening(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.spawn().unwrap();
    let addr = listening_address(&mut child, String::new);
    (child, format!("http://{addr}"))
}

/// The `host:port` from the first line a just-started server prints on its stdout; `context`
/// gives what else the failure message shows.
fn listening_address(child: &mut Child, context: impl FnOnce() -> String) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("listening on http://"),
        "the server did not start: {line:?}{}",
        context()
    );
    line.trim().rsplit("http://").next().unwrap().to_owned()
}

/// A running `splitmark capture`; killed (SIGKILL) on drop.
pub struct CaptureProcess {
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    /// Every line it wrote to standard error so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl CaptureProcess {
    /// Starts `splitmark capture` over `site` (built, for the manifest) on `db`.
    pub fn start(site: &Site, db: &str) -> CaptureProcess {
        CaptureProcess::spawn(
            Command::new(env!("CARGO_BIN_EXE_splitmark"))
                .args(["capture", "--root"])
                .arg(site.root())
                .args(["--bind", "127.0.0.1:0", "--db", db])
                .env("SPLITMARK_ADMIN_TOKEN", TOKEN),
        )
    }

    /// Spawns `cmd` (a `splitmark capture … --bind 127.0.0.1:0`), collecting its standard
    /// error, and waits for the address it listens on.
    pub fn spawn(cmd: &mut Command) -> CaptureProcess {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[capture] {line}");
                sink.lock().unwrap().push(line);
            }
        });
        let addr = listening_address(&mut child, || format!(", log {:?}", log.lock().unwrap()));
        CaptureProcess { child, addr, log }
    }

    /// Whether a line of its log so far contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(text))
    }

    /// `http://host:port`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits (up to 30 s) for a log line containing `text`, and returns it.
    pub fn wait_for_log(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(l) = self.log.lock().unwrap().iter().find(|l| l.contains(text)) {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {text:?} in {:?}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for CaptureProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
