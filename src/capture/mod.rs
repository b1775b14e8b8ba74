//! The HTTP side: the capture server (`splitmark capture`), static files and live reload.
//!
//! hyper 1.x on tokio. Handlers see parsed, validated values; storage is reached only
//! through [`crate::store::Store`].

pub mod http;
pub mod live_reload;
pub mod server;
pub mod static_files;
