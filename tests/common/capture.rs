//! A capture server on port 0 over a fixture site, and an HTTP client for it.

use super::Site;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::Client;
use splitmark::capture::{start, CaptureOptions, CaptureServer};
use splitmark::manifest::Manifest;

/// The admin token every harness uses.
pub const ADMIN_TOKEN: &str = "s3cret-token";
/// Content type of a plain form post.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// The `demo` form the capture tests post to: an email, a size that qualifies when big.
pub const DEMO_FORM: &str = r#"
[forms.demo]
submit = "Send"
success_url = "/thanks/"
[[forms.demo.fields]]
name = "email"
type = "email"
label = "Email"
required = true
[[forms.demo.fields]]
name = "size"
type = "select"
label = "Size"
options = ["small", "big"]
[forms.demo.qualification]
threshold = 10
rules = [{ field = "size", points = { big = 10 } }]
"#;

/// A landing page running experiment `hero` (variants a, b) with the `demo` form as goal.
pub const LANDING: &str = "+++\ntitle = \"Landing\"\n[experiment]\nid = \"hero\"\ngoal = \"demo\"\nstatus = \"running\"\nvariants = [{ id = \"a\" }, { id = \"b\" }]\n+++\n{{ form(id=\"demo\") }}\n";

/// A built site with its capture server.
pub struct Harness {
    pub site: Site,
    pub server: CaptureServer,
    pub base: String,
    /// A client that does not follow redirects, so tests see the 303s.
    pub http: Client,
}

impl Harness {
    /// Builds a site from `files` and serves it; `db` defaults to SQLite under `data/`.
    pub async fn start(files: &[(&str, &str)], db: Option<String>) -> Harness {
        let site = Site::new(files);
        site.build_ok();
        let db =
            db.unwrap_or_else(|| format!("sqlite:{}", site.root().join("data/leads.db").display()));
        let server = start(CaptureOptions {
            root: site.root().to_path_buf(),
            bind: "127.0.0.1:0".into(),
            db: Some(db),
            site: Some(site.root().join("public")),
            admin_token: Some(ADMIN_TOKEN.into()),
            manifest: None,
        })
        .await
        .unwrap();
        Harness {
            base: format!("http://{}", server.addr()),
            site,
            server,
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Posts a body with a content type, asking for JSON when `json`.
    pub async fn post(
        &self,
        path: &str,
        ct: &str,
        body: impl Into<reqwest::Body>,
        json: bool,
    ) -> reqwest::Response {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, ct)
            .body(body);
        if json {
            r = r.header(ACCEPT, "application/json");
        }
        r.send().await.unwrap()
    }

    /// GETs an admin API path with the token; asserts 200 and returns the JSON.
    pub async fn admin(&self, path: &str) -> serde_json::Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    /// The built site's manifest.
    pub fn manifest(&self) -> Manifest {
        Manifest::load(&self.site.manifest_file()).unwrap()
    }
}
