//! TODO(module): markdown
