//! TODO(module): experiments
