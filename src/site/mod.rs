//! TODO(module): site
