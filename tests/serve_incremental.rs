//! `serve`'s incremental rebuilds produce what a clean build produces: random sequences of
//! edits (body, title, date, tags, draft flag, slug, links, shortcode use, add, delete,
//! rename, template and shortcode template edits) are applied to a fixture site, and after each
//! one the incremental output is compared file for file, byte for byte, with a fresh build's.
//! A step that fails must fail for the clean build too.

use proptest::prelude::*;
use splitmark::site::incremental::Snapshot;
use splitmark::site::{self, BuildOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const TAGS: [&str; 3] = ["rust", "seo", "web"];

#[derive(Clone, Debug)]
struct Post {
    file: String,
    title: u8,
    day: u8,
    tags: Vec<u8>,
    draft: bool,
    slug: Option<u8>,
    body: u8,
    note: bool,
    link: Option<String>,
}

impl Post {
    fn new(n: u8) -> Post {
        Post {
            file: format!("p{n}.md"),
            title: n,
            day: n % 28 + 1,
            tags: vec![n % 3],
            draft: false,
            slug: None,
            body: n,
            note: n % 2 == 0,
            link: None,
        }
    }

    fn text(&self) -> String {
        let tags: Vec<String> = self
            .tags
            .iter()
            .map(|t| format!("\"{}\"", TAGS[*t as usize % 3]))
            .collect();
        let mut s = format!(
            "+++\ntitle = \"Post {}\"\ndate = \"2024-01-{:02}\"\ntags = [{}]\ndraft = {}\n",
            self.title,
            self.day,
            tags.join(", "),
            self.draft
        );
        if let Some(slug) = self.slug {
            s.push_str(&format!("slug = \"s{slug}\"\n"));
        }
        s.push_str("+++\n");
        for k in 0..=(self.body % 4) {
            s.push_str(&format!("Paragraph {k} of version {}.\n\n", self.body));
        }
        if self.note {
            s.push_str("{{< note />}}\n\n");
        }
        if let Some(target) = &self.link {
            s.push_str(&format!("See [that one](@/blog/{target}).\n"));
        }
        s
    }
}

#[derive(Clone, Debug)]
enum Op {
    Body(usize, u8),
    Title(usize, u8),
    Date(usize, u8),
    Tags(usize, Vec<u8>),
    Draft(usize, bool),
    Slug(usize, Option<u8>),
    Note(usize, bool),
    Link(usize, usize),
    Add(u8),
    Delete(usize),
    Rename(usize, u8),
    Template(u8),
    Shortcode(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0usize..16;
    prop_oneof![
        (i.clone(), any::<u8>()).prop_map(|(i, v)| Op::Body(i, v)),
        (i.clone(), any::<u8>()).prop_map(|(i, v)| Op::Title(i, v)),
        (i.clone(), any::<u8>()).prop_map(|(i, v)| Op::Date(i, v)),
        (i.clone(), proptest::collection::vec(0u8..3, 0..3)).prop_map(|(i, v)| Op::Tags(i, v)),
        (i.clone(), any::<bool>()).prop_map(|(i, v)| Op::Draft(i, v)),
        (i.clone(), proptest::option::of(0u8..4)).prop_map(|(i, v)| Op::Slug(i, v)),
        (i.clone(), any::<bool>()).prop_map(|(i, v)| Op::Note(i, v)),
        (i.clone(), i.clone()).prop_map(|(i, j)| Op::Link(i, j)),
        any::<u8>().prop_map(Op::Add),
        i.clone().prop_map(Op::Delete),
        (i, any::<u8>()).prop_map(|(i, v)| Op::Rename(i, v)),
        any::<u8>().prop_map(Op::Template),
        any::<u8>().prop_map(Op::Shortcode),
    ]
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    posts: Vec<Post>,
    next: u8,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        let f = Fixture {
            root,
            _dir: dir,
            posts: (0..5).map(Post::new).collect(),
            next: 5,
        };
        f.write(
            "splitmark.toml",
            "base_url = \"https://example.test\"\ntitle = \"T\"\ndescription = \"D\"\npaginate_by = 2\n",
        );
        f.write(
            "content/_index.md",
            "+++\ntitle = \"Home\"\n+++\nWelcome.\n",
        );
        f.write(
            "content/blog/_index.md",
            "+++\ntitle = \"Blog\"\npaginate_by = 2\n+++\nThe blog.\n",
        );
        f.write(
            "content/about.md",
            "+++\ntitle = \"About\"\n+++\nAbout us.\n",
        );
        f.write("templates/shortcodes/note.html", "<aside>note v0</aside>");
        for p in &f.posts {
            f.write(&format!("content/blog/{}", p.file), &p.text());
        }
        f
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn remove(&self, rel: &str) -> PathBuf {
        let p = self.root.join(rel);
        let _ = std::fs::remove_file(&p);
        p
    }

    fn opts(&self, name: &str) -> BuildOptions {
        BuildOptions {
            root: self.root.clone(),
            output: Some(self.root.parent().unwrap().join(name)),
            base_url: Some("http://127.0.0.1:9".into()),
            drafts: false,
            progress: false,
            manifest: Some(self.root.parent().unwrap().join(format!("{name}.json"))),
        }
    }

    /// Applies `op`; returns the paths it changed.
    fn apply(&mut self, op: &Op) -> Vec<PathBuf> {
        let n = self.posts.len();
        let post_path = |p: &Post| format!("content/blog/{}", p.file);
        let edit = |f: &mut Fixture, i: usize, change: &dyn Fn(&mut Post)| {
            if n == 0 {
                return vec![];
            }
            let p = &mut f.posts[i % n];
            change(p);
            let p = p.clone();
            vec![f.write(&post_path(&p), &p.text())]
        };
        match op {
            Op::Body(i, v) => edit(self, *i, &|p| p.body = *v),
            Op::Title(i, v) => edit(self, *i, &|p| p.title = *v),
            Op::Date(i, v) => edit(self, *i, &|p| p.day = v % 28 + 1),
            Op::Tags(i, v) => edit(self, *i, &|p| p.tags = v.clone()),
            Op::Draft(i, v) => edit(self, *i, &|p| p.draft = *v),
            Op::Slug(i, v) => edit(self, *i, &|p| p.slug = *v),
            Op::Note(i, v) => edit(self, *i, &|p| p.note = *v),
            Op::Link(i, j) => {
                let target = (n > 0).then(|| self.posts[j % n].file.clone());
                edit(self, *i, &|p| p.link = target.clone())
            }
            Op::Add(v) => {
                let mut p = Post::new(self.next);
                self.next += 1;
                p.body = *v;
                let path = self.write(&post_path(&p), &p.text());
                self.posts.push(p);
                vec![path]
            }
            Op::Delete(i) if n > 0 => {
                let p = self.posts.remove(i % n);
                vec![self.remove(&post_path(&p))]
            }
            Op::Rename(i, v) if n > 0 => {
                let old = post_path(&self.posts[i % n]);
                let name = format!("r{v}.md");
                if self.posts.iter().any(|p| p.file == name) {
                    return vec![];
                }
                self.posts[i % n].file = name;
                let p = self.posts[i % n].clone();
                let from = self.root.join(&old);
                let to = self.root.join(post_path(&p));
                std::fs::rename(&from, &to).unwrap();
                vec![from, to]
            }
            Op::Delete(_) | Op::Rename(..) => vec![],
            Op::Template(v) => vec![match v % 3 {
                0 => self.remove("templates/page.html"),
                1 => self.write(
                    "templates/page.html",
                    &format!("{{% extends \"base.html\" %}}{{% block main %}}<article>{{{{ page.title }}}} v{v} {{{{ page.content | safe }}}}</article>{{% endblock main %}}"),
                ),
                _ => self.write(
                    "templates/partials/footer.html",
                    &format!("<footer>foot v{v}</footer>"),
                ),
            }],
            Op::Shortcode(v) => vec![if v % 4 == 0 {
                self.remove("templates/shortcodes/note.html")
            } else {
                self.write(
                    "templates/shortcodes/note.html",
                    &format!("<aside>note v{v}</aside>"),
                )
            }],
        }
    }
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

fn folders(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_dir())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn assert_same(incremental: &Path, clean: &Path, history: &[Op]) {
    let (a, b) = (tree(incremental), tree(clean));
    let names_a: Vec<&String> = a.keys().collect();
    let names_b: Vec<&String> = b.keys().collect();
    assert_eq!(names_a, names_b, "same files after {history:?}");
    for (rel, bytes) in &a {
        if bytes != &b[rel] {
            panic!(
                "{rel} differs after {history:?}\n--- incremental:\n{}\n--- clean:\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&b[rel])
            );
        }
    }
    let mut fa = folders(incremental);
    let mut fb = folders(clean);
    fa.sort();
    fb.sort();
    assert_eq!(fa, fb, "same folders (none left empty) after {history:?}");
}

fn run(ops: &[Op]) {
    let mut f = Fixture::new();
    let inc_opts = f.opts("incremental");
    let clean_opts = f.opts("clean");
    let (mut snapshot, report) = Snapshot::build(&inc_opts).expect("fixture builds");
    assert!(report.full);
    site::build(&clean_opts).expect("fixture builds clean");
    assert_same(&inc_opts.output_dir(), &clean_opts.output_dir(), &[]);
    let mut pending = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        pending.extend(f.apply(op));
        let history = &ops[..=k];
        let clean = site::build(&clean_opts);
        match (snapshot.update(&pending), clean) {
            (Ok((next, _)), Ok(_)) => {
                snapshot = next;
                pending.clear();
                assert_same(&inc_opts.output_dir(), &clean_opts.output_dir(), history);
            }
            (Err(_), Err(_)) => {}
            (Ok(_), Err(e)) => panic!("incremental succeeded, clean failed after {history:?}: {e}"),
            (Err(e), Ok(_)) => panic!("incremental failed, clean succeeded after {history:?}: {e}"),
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn incremental_output_equals_a_clean_build(ops in proptest::collection::vec(op(), 1..10)) {
        run(&ops);
    }
}

#[test]
fn a_body_edit_renders_the_post_and_its_lists_only() {
    let mut f = Fixture::new();
    let opts = f.opts("incremental");
    let (snapshot, _) = Snapshot::build(&opts).unwrap();
    let changed = f.apply(&Op::Body(2, 99));
    let (_, report) = snapshot.update(&changed).unwrap();
    assert!(!report.full);
    assert_eq!(
        report.markdown, 1,
        "only the edited post's Markdown: {report}"
    );
    // The post, the blog list page and the tag page showing it, home (recent), two feeds.
    assert!(report.written <= 6, "{report}");
    assert!(report.written >= 1, "{report}");
}

#[test]
fn a_failed_step_keeps_the_last_good_output() {
    let mut f = Fixture::new();
    let opts = f.opts("incremental");
    let (snapshot, _) = Snapshot::build(&opts).unwrap();
    let before = tree(&opts.output_dir());
    let bad = f.write("content/blog/p1.md", "+++\ntitle = \n+++\nbroken\n");
    assert!(snapshot.update(std::slice::from_ref(&bad)).is_err());
    assert_eq!(tree(&opts.output_dir()), before, "output untouched");
    let _ = f.apply(&Op::Body(1, 7));
    let (_, report) = snapshot.update(&[bad]).unwrap();
    assert!(!report.full);
    let clean = f.opts("clean");
    site::build(&clean).unwrap();
    assert_same(&opts.output_dir(), &clean.output_dir(), &[]);
}

/// Through the real server and file watcher: an edit shows on the page and its list, a
/// deletion removes the page, a broken edit reports the error and a fix recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_server_serves_each_incremental_step() {
    use splitmark::capture::live_reload::Event;
    use std::time::Duration;
    let mut f = Fixture::new();
    let server = splitmark::devserver::start(splitmark::devserver::ServeOptions {
        root: f.root.clone(),
        bind: "127.0.0.1".into(),
        port: 0,
        drafts: false,
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let get = |path: &str| {
        let (client, url) = (client.clone(), format!("{base}{path}"));
        async move {
            let res = client.get(url).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let mut events = server.live_reload().subscribe();
    macro_rules! next_event {
        () => {
            tokio::time::timeout(Duration::from_secs(20), events.recv())
                .await
                .expect("a rebuild within 20 s")
                .unwrap()
        };
    }
    // Post 4 is the newest: first on the blog's first list page.
    f.apply(&Op::Body(4, 77));
    assert_eq!(next_event!(), Event::Reload);
    assert!(get("/blog/p4/").await.1.contains("version 77"));
    assert!(get("/blog/").await.1.contains("version 77"), "list summary");

    f.apply(&Op::Delete(4));
    assert_eq!(next_event!(), Event::Reload);
    assert_eq!(get("/blog/p4/").await.0, 404);
    assert!(!get("/blog/").await.1.contains("version 77"));

    let bad = f.write("content/blog/p1.md", "+++\ntitle = \n+++\nbroken\n");
    let ev = next_event!();
    assert!(
        matches!(ev, Event::BuildError(ref m) if m.contains("p1.md")),
        "{ev:?}"
    );
    assert!(
        get("/blog/p1/").await.1.contains("Post 1"),
        "last good output"
    );
    let _ = bad;
    f.apply(&Op::Title(1, 42));
    assert_eq!(next_event!(), Event::Reload);
    assert!(get("/blog/p1/").await.1.contains("Post 42"));
    server.stop().await;
}
