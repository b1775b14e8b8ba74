//! TODO(module): forms
