//! TODO(module): manifest
