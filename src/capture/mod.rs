//! TODO(module): capture
