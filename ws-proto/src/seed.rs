//! The one place that draws a connection's seed from the operating system.
//!
//! A [`Connection`](crate::Connection) takes its 32-byte seed as an argument
//! and never asks the OS for anything. Runtimes and the facade need the same
//! seed for every connection they start; [`os_seed`] is that function,
//! written once. It is behind the `os-seed` feature, so the core itself stays
//! free of system calls unless a runtime asks for this helper.
//!
//! Drawing entropy from the kernel is not transport I/O: it reads no socket,
//! blocks only before the kernel's pool is first initialised (early boot),
//! and has no peer. It lives here, rather than in a crate of its own,
//! because every runtime and the facade already depend on this crate.
//!
//! A failure is an error, never a fallback: mask keys and handshake keys
//! derived from a clock would be predictable (RFC 6455 sections 4.1 and
//! 5.3), so a runtime refuses the connection instead.

use std::fmt;
use std::io;

/// The operating system's random source failed, so no connection may be
/// started: its keys would be predictable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedError(getrandom::Error);

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the operating system's random source failed: {}", self.0)
    }
}

impl std::error::Error for SeedError {}

impl From<SeedError> for io::Error {
    fn from(error: SeedError) -> Self {
        io::Error::other(error)
    }
}

/// A fresh seed for a [`Connection`](crate::Connection), from the OS.
///
/// # Errors
///
/// [`SeedError`] when the OS random source fails. Nothing falls back on the
/// clock: refuse the connection (a server) or fail the connect (a client).
pub fn os_seed() -> Result<[u8; 32], SeedError> {
    seed_from(getrandom::fill)
}

/// [`os_seed`] with the source as an argument, so that tests can make it fail.
fn seed_from<F>(fill: F) -> Result<[u8; 32], SeedError>
where
    F: FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
{
    let mut seed = [0u8; 32];
    fill(&mut seed).map_err(SeedError)?;
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_between_calls() {
        let a = os_seed().expect("the OS random source works here");
        let b = os_seed().expect("the OS random source works here");
        assert_ne!(a, b);
    }

    #[test]
    fn a_failing_source_is_an_error_not_a_fallback() {
        let mut called = false;
        let result = seed_from(|buf| {
            called = true;
            // A source that fills part of the seed and then fails: nothing
            // of it may come out.
            buf[..8].fill(0xAA);
            Err(getrandom::Error::UNSUPPORTED)
        });
        assert!(called);
        let error = result.expect_err("a failed source gives no seed");
        assert_eq!(error, SeedError(getrandom::Error::UNSUPPORTED));
        assert!(error.to_string().contains("random source failed"));
        let io = io::Error::from(error);
        assert_eq!(io.kind(), io::ErrorKind::Other);
        assert!(io.to_string().contains("random source failed"));
    }
}
