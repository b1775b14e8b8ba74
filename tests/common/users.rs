//! Helpers of the users tests: the `splitmark user` CLI, an admin-API and dashboard client,
//! and the stored hash read straight from either database.

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::process::{Command, Output};

/// How the CLI is given the database.
#[derive(Clone, Copy)]
pub enum DbArg {
    Flag,
    Env,
}

pub struct Cli {
    pub root: std::path::PathBuf,
    pub db: String,
    pub how: DbArg,
}

impl Cli {
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_splitmark"));
        cmd.arg("user").args(args).arg("--root").arg(&self.root);
        cmd.env_remove("SPLITMARK_DB");
        match self.how {
            DbArg::Flag => cmd.args(["--db", &self.db]),
            DbArg::Env => cmd.env("SPLITMARK_DB", &self.db),
        };
        cmd.output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "user {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "user {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    /// Adds a user and returns the secret it printed (standard output holds nothing else).
    pub fn add(&self, name: &str, role: &str, extra: &[&str]) -> String {
        let mut args = vec!["add", name, "--role", role];
        args.extend_from_slice(extra);
        let out = self.ok(&args);
        let secret = out.trim_end_matches('\n');
        assert!(!secret.contains('\n'), "{out:?}");
        assert_eq!(secret.len(), 43, "{secret:?}");
        secret.to_owned()
    }
}

pub struct Api {
    pub http: Client,
    pub base: String,
}

impl Api {
    pub async fn get(&self, path: &str, bearer: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, bearer: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
    ) -> reqwest::Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
    }

    /// Asserts a 403 with the stable error code and a message naming the role.
    pub async fn forbidden(&self, res: reqwest::Response, what: &str) {
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "forbidden", "{what}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("sales role"),
            "{what}: {body}"
        );
    }

    pub async fn login(&self, user: &str, secret: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/admin/login", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string([("user", user), ("token", secret)]).unwrap())
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the session cookie (`name=value`).
    pub async fn session(&self, user: &str, secret: &str) -> String {
        let r = self.login(user, secret).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {user}");
        assert_eq!(r.headers()[LOCATION], "/admin/queue");
        let c = r.headers()[SET_COOKIE].to_str().unwrap();
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
        c.split(';').next().unwrap().to_owned()
    }

    pub async fn page(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
    ) -> (StatusCode, String) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let text = r.text().await.unwrap();
        (status, location.unwrap_or(text))
    }
}

/// The stored hash of `name`, read straight from the database.
pub async fn stored_hash(db: &str, name: &str) -> String {
    if let Some(path) = db.strip_prefix("sqlite:") {
        let c = rusqlite::Connection::open(path).unwrap();
        c.query_row(
            "SELECT secret_hash FROM users WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    } else {
        let c = super::postgres::client(db).await;
        c.query_one("SELECT secret_hash FROM users WHERE name = $1", &[&name])
            .await
            .unwrap()
            .get(0)
    }
}
