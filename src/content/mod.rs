//! TODO(module): content
