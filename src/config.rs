//! TODO(module): config
