//! TODO(module): seo
