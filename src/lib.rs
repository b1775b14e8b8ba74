//! splitmark: Markdown to fast, SEO-friendly landing pages and blog posts, with A/B-tested
//! lead-capture forms and a small capture server that stores every lead.
//!
//! Data flows one way: `config -> content -> markdown -> site -> output`. `forms`,
//! `experiments` and `stats` are pure (no I/O) and shared by the build, the capture server and
//! the report. `capture` talks to storage only through [`store::Store`].

pub mod capture;
pub mod cli_data;
pub mod cli_users;
pub mod config;
pub mod content;
pub mod dashboard;
pub mod delivery;
pub mod devserver;
pub mod diagnostics;
pub mod experiments;
pub mod forms;
pub mod import;
pub mod lifecycle;
pub mod manifest;
pub mod markdown;
pub mod report;
pub mod seo;
pub mod site;
pub mod stats;
pub mod store;
pub mod users;
