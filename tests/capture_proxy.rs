//! The real binary behind a real nginx and a real Caddy, each configured with its block from
//! docs/deploy.md: clients from many loopback addresses each get their own rate-limit bucket,
//! one client alone is still limited, a client forging `X-Forwarded-For` is limited by its real
//! address, and what is stored is the hash of each client's real address.
//!
//! Needs nginx and Caddy; without one, its test prints a loud skip notice, unless
//! `SPLITMARK_REQUIRE_NGINX=1` / `SPLITMARK_REQUIRE_CADDY=1` (set by CI) makes it fail.

mod common;
use common::*;
use splitmark::capture::guard::IpHasher;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_TOKEN: &str = "proxy-test-token";
/// Each client's burst; the sustained rate is too slow to refill during the test.
const BURST: usize = 4;
const CAPTURE: &str = "[capture]\ntrusted_proxies = [\"127.0.0.1/32\"]\nrate_limit_burst = 4\nrate_limit_per_minute = 1\n[forms.demo]\n[[forms.demo.fields]]\nname = \"email\"\ntype = \"email\"\nlabel = \"Email\"\nrequired = true\n";

/// A spawned process, killed by its PID when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `program` from PATH or the usual sbin folders.
fn find_program(program: &str) -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")]);
    candidates.map(|d| d.join(program)).find(|p| p.is_file())
}

/// The program a test needs, or `None` after a loud skip notice (a failure when required).
fn require(program: &str, variable: &str) -> Option<PathBuf> {
    let found = find_program(program);
    if found.is_none() {
        assert!(
            std::env::var(variable).is_err(),
            "{variable} is set but {program} is not installed"
        );
        eprintln!("\n*** SKIPPED: this reverse-proxy test needs {program} (apt-get install {program}) ***\n");
    }
    found
}

/// The `lang` code block of docs/deploy.md between `<!-- BEGIN {name}` and `<!-- END {name} -->`.
fn documented_block(name: &str, lang: &str) -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md"))
        .unwrap();
    let begin = format!("<!-- BEGIN {name}");
    let end = format!("<!-- END {name} -->");
    let start = doc
        .find(&begin)
        .unwrap_or_else(|| panic!("docs/deploy.md has no {begin:?} marker"));
    let stop = doc
        .find(&end)
        .unwrap_or_else(|| panic!("docs/deploy.md has no {end:?} marker"));
    let code = doc[start..stop]
        .split_once(&format!("```{lang}\n"))
        .unwrap_or_else(|| panic!("a {lang} code block between the {name} markers"))
        .1;
    code.rsplit_once("```").unwrap().0.to_owned()
}

/// Replaces `from` (which must occur exactly once, so the docs cannot drift unnoticed).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "docs/deploy.md's nginx block should contain {from:?} once"
    );
    text.replacen(from, to, 1)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx.conf for the test: the documented block with local ports and paths, no TLS.
fn nginx_conf(dir: &Path, listen: u16, capture: &str, public: &Path) -> String {
    let mut block = documented_block("nginx.conf", "nginx");
    block = replace_once(
        &block,
        "server 127.0.0.1:8080;",
        &format!("server {capture};"),
    );
    block = replace_once(
        &block,
        "listen 443 ssl http2;",
        &format!("listen 127.0.0.1:{listen};"),
    );
    block = replace_once(&block, "listen [::]:443 ssl http2;", "");
    block = replace_once(
        &block,
        "root /var/www/example/public;",
        &format!("root {};", public.display()),
    );
    block = block
        .lines()
        .filter(|l| !l.trim_start().starts_with("ssl_certificate"))
        .collect::<Vec<_>>()
        .join("\n");
    let d = dir.display();
    // As root, nginx's workers would switch to `nobody`, who cannot read a private temp dir.
    let user = if unsafe { libc::geteuid() } == 0 {
        "user root;"
    } else {
        ""
    };
    format!(
        "{user}\ndaemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 512; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  types {{ text/html html; }}\n{block}\n}}\n"
    )
}

fn spawn_capture(site: &Site, db: &str) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitmark"))
        .args(["capture", "--root"])
        .arg(site.root())
        .args(["--bind", "127.0.0.1:0", "--db", db])
        .env("SPLITMARK_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_owned();
    (Running(child), addr)
}

fn spawn_nginx(nginx: &Path, dir: &Path, conf: &str, port: u16) -> Running {
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(nginx)
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = running.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            panic!("nginx exited with {status}:\n{log}\n--- config ---\n{conf}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    running
}

/// A client whose connections come from `source`, a loopback address.
fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(source))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn submit(
    client: &reqwest::Client,
    base: &str,
    n: usize,
    forged: Option<&str>,
) -> reqwest::StatusCode {
    let mut req = client
        .post(format!("{base}/api/v1/forms/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(format!("email=p{n}%40example.com&_visitor=p{n}"));
    if let Some(f) = forged {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap().status()
}

/// A site with a small rate limit, trusting the proxy on 127.0.0.1, and its capture server.
fn capture_behind_proxy() -> (Site, Running, String) {
    let site = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{CAPTURE}")),
        (
            "content/_index.md",
            "+++\ntitle = \"Home\"\n+++\nWelcome home.\n",
        ),
    ]);
    site.build_ok();
    let db = format!("sqlite:{}", site.root().join("data/leads.db").display());
    let (capture, addr) = spawn_capture(&site, &db);
    (site, capture, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_documented_nginx_each_visitor_has_its_own_bucket() {
    let Some(nginx) = require("nginx", "SPLITMARK_REQUIRE_NGINX") else {
        return;
    };
    let (site, _capture, capture_addr) = capture_behind_proxy();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = nginx_conf(dir.path(), port, &capture_addr, &site.root().join("public"));
    let _nginx = spawn_nginx(&nginx, dir.path(), &conf, port);
    visitors_behind_the_proxy(&format!("http://127.0.0.1:{port}"), &capture_addr, &site).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_documented_caddy_each_visitor_has_its_own_bucket() {
    let Some(caddy) = require("caddy", "SPLITMARK_REQUIRE_CADDY") else {
        return;
    };
    let (site, _capture, capture_addr) = capture_behind_proxy();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = caddyfile(port, &capture_addr, &site.root().join("public"));
    let _caddy = spawn_caddy(&caddy, dir.path(), &conf, port);
    visitors_behind_the_proxy(&format!("http://127.0.0.1:{port}"), &capture_addr, &site).await;
}

/// The Caddyfile of docs/deploy.md on a local port, without certificates or admin endpoint.
fn caddyfile(listen: u16, capture: &str, public: &Path) -> String {
    let mut conf = documented_block("Caddyfile", "caddy");
    conf = replace_once(
        &conf,
        "{\n    servers {",
        "{\n    admin off\n    auto_https off\n    servers {",
    );
    conf = replace_once(
        &conf,
        "www.example.com {",
        &format!("http://127.0.0.1:{listen} {{"),
    );
    conf = replace_once(
        &conf,
        "reverse_proxy 127.0.0.1:8080 {",
        &format!("reverse_proxy {capture} {{"),
    );
    replace_once(
        &conf,
        "root * /var/www/example/public",
        &format!("root * {}", public.display()),
    )
}

fn spawn_caddy(caddy: &Path, dir: &Path, conf: &str, port: u16) -> Running {
    let conf_path = dir.join("Caddyfile");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(caddy)
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&conf_path)
        // Caddy keeps its state under these; keep it in the test's folder.
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_listener(Running(child), port, "caddy", conf)
}

/// Waits until `port` accepts connections; panics if the proxy exits first.
fn wait_for_listener(mut running: Running, port: u16, what: &str, conf: &str) -> Running {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = running.0.try_wait().unwrap() {
            panic!("{what} exited with {status}\n--- config ---\n{conf}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    running
}

/// What every visitor of a site behind the proxy at `base` must see.
async fn visitors_behind_the_proxy(base: &str, capture_addr: &str, site: &Site) {
    // The proxy serves the built site itself.
    let home = client_from(Ipv4Addr::new(127, 0, 0, 2))
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Welcome home."));

    // Many visitors, each from its own address, each within its burst: none is refused.
    let visitors: Vec<Ipv4Addr> = (10..40).map(|i| Ipv4Addr::new(127, 0, 0, i)).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (v, addr) in visitors.iter().enumerate() {
        let (client, base) = (client_from(*addr), base.to_owned());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for i in 0..BURST {
                statuses.push(submit(&client, &base, v * 100 + i, None).await);
            }
            statuses
        });
    }
    let mut created = 0;
    while let Some(statuses) = tasks.join_next().await {
        let statuses = statuses.unwrap();
        assert!(
            statuses.iter().all(|s| *s == 201),
            "a visitor within its burst was refused: {statuses:?}"
        );
        created += statuses.len();
    }
    assert_eq!(created, visitors.len() * BURST);

    // One visitor alone is still limited: past its burst it gets 429 with Retry-After.
    let alone = client_from(Ipv4Addr::new(127, 0, 0, 50));
    for i in 0..BURST {
        assert_eq!(submit(&alone, base, 5_000 + i, None).await, 201);
    }
    let r = alone
        .post(format!("{base}/api/v1/forms/demo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("email=over%40example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));

    // A visitor forging X-Forwarded-For, a new address each time (even the proxy's own), is
    // limited by its real one.
    let forger = client_from(Ipv4Addr::new(127, 0, 0, 60));
    let mut statuses = Vec::new();
    for i in 0..BURST + 2 {
        let forged = match i {
            0 => "127.0.0.1".to_owned(),
            1 => "10.0.0.1, 127.0.0.1".to_owned(),
            _ => format!("198.51.100.{i}"),
        };
        statuses.push(submit(&forger, base, 6_000 + i, Some(&forged)).await);
    }
    assert_eq!(&statuses[..BURST], &[reqwest::StatusCode::CREATED; BURST]);
    assert_eq!(
        &statuses[BURST..],
        &[reqwest::StatusCode::TOO_MANY_REQUESTS; 2],
        "the forger escaped its bucket: {statuses:?}"
    );

    // What is stored is the hash of each visitor's real address, never the proxy's.
    let leads: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{capture_addr}/api/v1/leads?format=json"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hasher = IpHasher::load_or_create(&site.root().join("data/ip-hash.key")).unwrap();
    let today = chrono::Utc::now().date_naive();
    let hash = |ip: Ipv4Addr| hasher.hash(IpAddr::V4(ip), today);
    let stored: Vec<&str> = leads["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ip_hash"].as_str().unwrap())
        .collect();
    assert_eq!(stored.len(), created + 2 * BURST);
    for addr in visitors
        .iter()
        .chain(&[Ipv4Addr::new(127, 0, 0, 50), Ipv4Addr::new(127, 0, 0, 60)])
    {
        assert_eq!(
            stored.iter().filter(|h| **h == hash(*addr)).count(),
            BURST,
            "{addr}"
        );
    }
    assert!(!stored.contains(&hash(Ipv4Addr::LOCALHOST).as_str()));
}
