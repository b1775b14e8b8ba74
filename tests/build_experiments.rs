//! Forms and experiments in built pages: variant blocks, head script, manifest, and what
//! draft, paused and stopped experiments build.

mod common;
use common::*;
use splitmark::manifest::Manifest;

const FORMS: &str = r#"
[forms.demo]
headline = "Book a demo"
submit = "Send"
[[forms.demo.fields]]
name = "email"
type = "email"
label = "Email"
required = true
"#;

fn site(status: &str, winner: Option<&str>) -> Site {
    let winner = winner
        .map(|w| format!("winner = \"{w}\"\n"))
        .unwrap_or_default();
    let page = format!(
        "+++\ntitle = \"Control title\"\ndescription = \"Control description\"\ntemplate = \"landing.html\"\n[extra]\nhero = \"Control hero\"\n[experiment]\nid = \"hero\"\ngoal = \"demo\"\nstatus = \"{status}\"\n{winner}[[experiment.variants]]\nid = \"a\"\nweight = 1\n[[experiment.variants]]\nid = \"b\"\nweight = 3\ntitle = \"B title\"\nextra = {{ hero = \"B hero\" }}\nform = {{ submit = \"B submit\" }}\n+++\n{{% variant(id=\"a\") %}}\nBlock **A**\n{{% end %}}\n{{% variant(id=\"b\") %}}\nBlock **B**\n{{% end %}}\n\n{{{{ form(id=\"demo\") }}}}\n"
    );
    Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORMS}")),
        ("content/landing.md", &page),
    ])
}

#[test]
fn running_experiment_carries_every_variant_and_the_head_script() {
    let s = site("running", None);
    s.build_ok();
    let doc = s.html("landing/index.html");
    assert_eq!(texts(&doc, "[data-sm-e=hero][data-sm-v=a] strong"), ["A"]);
    assert_eq!(texts(&doc, "[data-sm-e=hero][data-sm-v=b] strong"), ["B"]);
    assert_eq!(texts(&doc, "[data-sm-v=b] h1"), ["B hero"]);
    assert_eq!(texts(&doc, "[data-sm-v=a] h1"), ["Control hero"]);
    assert_eq!(texts(&doc, "button [data-sm-v=b]"), ["B submit"]);
    // SEO: only the control's title and description in the head, canonical to itself.
    assert_eq!(texts(&doc, "title"), ["Control title — Test site"]);
    assert_eq!(
        attr(&doc, "meta[name=description]", "content"),
        "Control description"
    );
    assert_eq!(
        attr(&doc, "link[rel=canonical]", "href"),
        "https://example.test/landing/"
    );
    let html = s.read("landing/index.html");
    let head = &html[..html.find("</head>").unwrap()];
    assert!(head.contains("[data-sm-e=\"hero\"][data-sm-v]{display:none}"));
    assert!(
        head.contains("\"v\":[[\"a\",0.25],[\"b\",0.75]]"),
        "weights normalised"
    );
    assert!(
        head.find("<script>").unwrap() < head.find("<title>").unwrap(),
        "the script runs before anything paints"
    );
    let sitemap = s.read("sitemap.xml");
    assert_eq!(
        sitemap.matches("/landing/").count(),
        1,
        "one URL for all variants"
    );
    assert!(!sitemap.contains("sm_hero"));
}

#[test]
fn manifest_lists_forms_and_experiments() {
    let s = site("running", None);
    s.build_ok();
    let m = Manifest::load(&s.manifest_file()).unwrap();
    assert_eq!(m.forms["demo"].fields[0].name, "email");
    let e = m.experiment("hero").unwrap();
    assert_eq!((e.page.as_str(), e.goal.as_str()), ("/landing/", "demo"));
    assert_eq!(
        e.variants
            .iter()
            .map(|v| (v.id.as_str(), v.weight))
            .collect::<Vec<_>>(),
        [("a", 0.25), ("b", 0.75)]
    );
    // The CLI agrees with the manifest's assignment.
    assert_eq!(
        splitmark::experiments::assign_from_manifest(&s.manifest_file(), "hero", "visitor-1")
            .unwrap(),
        e.assign("visitor-1")
    );
    assert!(splitmark::experiments::assign_from_manifest(&s.manifest_file(), "nope", "v").is_err());
}

#[test]
fn the_manifest_stays_out_of_the_published_output() {
    let s = Site::new(&[
        (
            "splitmark.toml",
            &format!("{CONFIG}{FORMS}[forms.demo.qualification]\nthreshold = 7\nrules = [{{ field = \"email\", points = {{ \"x@y.z\" = 7 }} }}]\n"),
        ),
        ("content/landing.md", "+++\ntitle = \"Landing\"\n[experiment]\nid = \"secret-draft\"\ngoal = \"demo\"\nstatus = \"draft\"\nvariants = [{ id = \"a\" }, { id = \"b\" }]\n+++\n{{ form(id=\"demo\") }}\n"),
    ]);
    s.build_ok();
    let m = Manifest::load(&s.manifest_file()).unwrap();
    assert_eq!(m.forms["demo"].qualification.as_ref().unwrap().threshold, 7);
    assert!(m.experiment("secret-draft").is_some());
    assert!(!s.out("_splitmark/manifest.json").exists());
    // Nothing deployable carries the scoring rules or the experiment's weights and status
    // (its id is in the page's form, which attributes the lead).
    for (path, bytes) in tree_fingerprint(&s.root().join("public")) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("x@y.z") && !text.contains("threshold") && !text.contains("\"draft\""),
            "{path} publishes private manifest data"
        );
    }
    // Elsewhere on request.
    let elsewhere = s.root().join("private/m.json");
    let opts = splitmark::site::BuildOptions {
        manifest: Some(elsewhere.clone()),
        ..s.opts()
    };
    splitmark::site::build(&opts).unwrap();
    assert_eq!(Manifest::load(&elsewhere).unwrap(), m);
}

#[test]
fn browser_code_reads_no_manifest() {
    // The manifest is server-only: nothing shipped to browsers may ask for it.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        "themes/default/static",
        "assets/js",
        "themes/default/templates",
    ] {
        for (path, bytes) in tree_fingerprint(&root.join(dir)) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains("manifest"),
                "{dir}/{path} mentions the manifest"
            );
        }
    }
}

#[test]
fn stopped_with_winner_builds_only_the_winner() {
    let s = site("stopped", Some("b"));
    s.build_ok();
    let doc = s.html("landing/index.html");
    let html = s.read("landing/index.html");
    assert!(!html.contains("data-sm-v"), "no variant markup");
    assert!(!html.contains("sendBeacon"), "no assignment script");
    assert!(
        html.contains("Block <strong>B</strong>") && !html.contains("Block <strong>A</strong>")
    );
    assert_eq!(texts(&doc, "h1"), ["B hero"]);
    assert_eq!(
        texts(&doc, "title"),
        ["B title — Test site"],
        "the winner ships whole"
    );
    assert_eq!(texts(&doc, "form button"), ["B submit"]);
    assert_eq!(attr(&doc, "input[name=_variant]", "value"), "b");
}

#[test]
fn draft_and_paused_build_only_the_control() {
    for status in ["draft", "paused"] {
        let s = site(status, None);
        s.build_ok();
        let html = s.read("landing/index.html");
        assert!(
            !html.contains("data-sm-v") && !html.contains("sendBeacon"),
            "{status}"
        );
        assert!(
            html.contains("Block <strong>A</strong>") && !html.contains("Block <strong>B</strong>"),
            "{status}"
        );
    }
}

#[test]
fn experiment_errors_name_the_page() {
    let s = site("running", None);
    s.write("content/other.md", "+++\ntitle = \"O\"\n[experiment]\nid = \"x\"\ngoal = \"missing\"\nvariants = [{id = \"a\"}, {id = \"b\"}]\n+++\n");
    let e = s.build().unwrap_err();
    assert!(
        e.contains("content/other.md") && e.contains("goal form \"missing\""),
        "{e}"
    );
    let s = site("running", None);
    s.write(
        "content/p.md",
        "+++\ntitle = \"P\"\n+++\n{% variant(id=\"a\") %}x{% end %}\n\n{{ form(id=\"nope\") }}\n",
    );
    let e = s.build().unwrap_err();
    assert!(
        e.contains("content/p.md:4:") && e.contains("no [experiment]"),
        "{e}"
    );
    assert!(
        e.contains("content/p.md:6:") && e.contains("unknown form \"nope\""),
        "{e}"
    );
}

#[test]
fn forms_are_accessible_and_carry_hidden_fields() {
    let s = site("running", None);
    s.build_ok();
    let doc = s.html("landing/index.html");
    assert_eq!(attr(&doc, "form.sm-form", "action"), "/api/v1/forms/demo");
    assert_eq!(
        attr(&doc, "label[for=sm-demo-email]", "for"),
        "sm-demo-email"
    );
    assert_eq!(
        attr(&doc, "#sm-demo-email", "aria-describedby"),
        "sm-demo-email-err"
    );
    for name in [
        "_form",
        "_experiment",
        "_variant",
        "_visitor",
        "_page",
        "_referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
    ] {
        assert_eq!(
            attrs(&doc, &format!("input[type=hidden][name={name}]"), "name").len(),
            1,
            "{name}"
        );
    }
    assert_eq!(attr(&doc, "input[name=_gotcha]", "tabindex"), "-1");
    // The page's own path is in the form, so a post without JavaScript says where it came from.
    assert_eq!(attr(&doc, "input[name=_page]", "value"), "/landing/");
    assert!(s.out("_splitmark/forms.js").exists());
}

#[test]
fn templates_can_render_forms_too() {
    let s = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{FORMS}")),
        (
            "content/contact.md",
            "+++\ntitle = \"Contact\"\ntemplate = \"contact.html\"\n+++\n",
        ),
        (
            "templates/contact.html",
            "<main>{{ form(id=\"demo\") }}</main>",
        ),
    ]);
    s.build_ok();
    let doc = s.html("contact/index.html");
    assert_eq!(
        attr(&doc, "main > form.sm-form", "action"),
        "/api/v1/forms/demo"
    );
    assert_eq!(attr(&doc, "input[name=_page]", "value"), "/contact/");
    assert_eq!(
        texts(&doc, "form h2"),
        ["Book a demo"],
        "rendered as HTML, not escaped text"
    );
}

#[test]
fn variants_choose_which_optional_fields_show() {
    let forms = format!("{FORMS}[[forms.demo.fields]]\nname = \"phone\"\ntype = \"tel\"\nlabel = \"Phone\"\noptional_in_variants = true\n");
    let page = "+++\ntitle = \"L\"\n[experiment]\nid = \"hero\"\ngoal = \"demo\"\nstatus = \"running\"\nvariants = [{ id = \"a\" }, { id = \"b\", form = { fields = [\"phone\"] } }, { id = \"c\", form = { fields = [] } }]\n+++\n{{ form(id=\"demo\") }}\n";
    let s = Site::new(&[
        ("splitmark.toml", &format!("{CONFIG}{forms}")),
        ("content/l.md", page),
    ]);
    s.build_ok();
    let doc = s.html("l/index.html");
    // Only variant c lists fields without the phone; a and b keep it.
    assert_eq!(
        attr(&doc, "[data-sm-hide]:has(#sm-demo-phone)", "data-sm-hide"),
        "c"
    );
    assert_eq!(attr(&doc, "#sm-demo-phone", "inputmode"), "tel");
    let html = s.read("l/index.html");
    assert!(
        html.contains("html[data-sm-hero=\"c\"] [data-sm-e=\"hero\"][data-sm-hide~=\"c\"]"),
        "CSS hides it for c"
    );
}

#[test]
fn a_failed_build_keeps_the_previous_manifest() {
    let s = site("running", None);
    s.build_ok();
    let before = std::fs::read(s.manifest_file()).unwrap();
    // The forms change (the manifest would), but a template fails while pages render.
    s.write(
        "splitmark.toml",
        &format!("{CONFIG}{}", FORMS.replace("Book a demo", "Changed")),
    );
    s.write(
        "content/broken.md",
        "+++\ntitle = \"B\"\ntemplate = \"bad.html\"\n+++\n",
    );
    s.write("templates/bad.html", "{{ page.no_such_field.deeper }}\n");
    s.build().expect_err("the template fails");
    assert_eq!(std::fs::read(s.manifest_file()).unwrap(), before);
    std::fs::remove_file(s.root().join("content/broken.md")).unwrap();
    s.build_ok();
    let after = Manifest::load(&s.manifest_file()).unwrap();
    assert_eq!(after.forms["demo"].headline.as_deref(), Some("Changed"));
}
