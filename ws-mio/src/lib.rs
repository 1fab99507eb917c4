//! Runtime crate: see the workspace README.
