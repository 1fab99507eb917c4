//! A program from the ws-rs guide, compiled verbatim from `guide/client.rs`
//! (the guide's style is kept, so its lints are allowed here).
#![allow(unused_extern_crates, clippy::all)]

include!("guide/client.rs");
