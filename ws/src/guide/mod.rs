//! # The guide
//!
//! A walk through the library, from the first echo server to limits,
//! timers, back-pressure, TLS and compression. It follows the guide of
//! ws-rs, whose API this crate keeps, and says where this crate differs.
//! This module holds no code: only the chapters below, whose programs are
//! all compiled by `cargo test`, and run there wherever they can (on
//! loopback, ending by themselves).
