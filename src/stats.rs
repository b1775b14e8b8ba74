//! TODO(module): stats
