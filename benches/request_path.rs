//! The capture server's work per request on the request's own thread, without the network or
//! the store: reading the body, splitting off the meta fields, validating, scoring and the
//! dedupe key for a submission; reading a beacon. `bench/cpu.sh` measures the whole server,
//! but its figures swing with the machine; these are the stable ones to compare builds by.
//!
//!   cargo bench --bench request_path

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use splitmark::capture::app::dedupe_key;
use splitmark::capture::body::{parse, Kind};
use splitmark::forms::{parse_forms, split_meta};
use std::hint::black_box;

// The allocator the splitmark binary runs with (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The benchmark site's lead form (`bench/site.toml`, which `bench/capture.sh` serves).
fn lead_form() -> splitmark::forms::FormSpec {
    let config = splitmark::config::Config::parse(include_str!("../bench/site.toml"))
        .expect("bench/site.toml parses");
    let (mut forms, problems) = parse_forms(&config.forms);
    assert!(problems.is_empty(), "{problems:?}");
    forms.remove("lead").expect("a lead form")
}

/// The submission of `../shared/bench/submit.lua`, with the visitor `bench/submit_unique.lua`
/// adds: 16 urlencoded fields, about 500 bytes.
fn submission() -> Bytes {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("email", "jane.doe+lead@example-corp.example"),
            ("name", "Jane Doe"),
            ("company", "Example Corp International GmbH"),
            ("employees", "51-200"),
            ("role", "Head of Marketing Operations"),
            ("country", "DE"),
            ("message", "Demo for our EU team next week, please."),
            ("variant", "b"),
            ("page", "/lp/spring-launch/"),
            ("utm_source", "newsletter"),
            ("utm_medium", "email"),
            ("utm_campaign", "spring_launch_2026"),
            ("utm_content", "hero_cta"),
            ("referrer", "https://news.example.org/issue/42"),
            ("consent", "1"),
            ("_visitor", "t1x1764000000-12345"),
        ])
        .finish();
    Bytes::from(body)
}

fn bench(c: &mut Criterion) {
    let form = lead_form();
    let body = submission();
    c.bench_function("submission: read, validate, score, dedupe key", |b| {
        b.iter(|| {
            let mut answers = parse(&Kind::UrlEncoded, body.clone(), 100)
                .now_or_never()
                .expect("urlencoded parses at once")
                .expect("a valid body");
            let meta = split_meta(&mut answers);
            let valid = form.validate(&answers).expect("a valid lead");
            let score = form.score(&valid);
            black_box((
                dedupe_key("lead", meta.visitor.as_deref(), &valid.answers),
                score,
                valid,
                meta,
            ))
        })
    });
    let beacon = Bytes::from_static(
        br#"{"type":"exposure","experiment":"bench","variant":"a","visitor":"e1x1764000000-12345","page":"/lp/"}"#,
    );
    c.bench_function("beacon: read", |b| {
        b.iter(|| {
            black_box(
                parse(&Kind::Text, beacon.clone(), 20)
                    .now_or_never()
                    .expect("JSON parses at once")
                    .expect("a valid beacon"),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
