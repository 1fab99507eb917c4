//! Examples live in this package's `[[example]]` targets; this library holds
//! what more than one of them uses.

mod connection_log;

pub use connection_log::ConnectionLog;
