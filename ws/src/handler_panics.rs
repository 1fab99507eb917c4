//! Panics of the application's code: a handler that panicked is caught and
//! poisoned (`guarded`), and the `panic_on_*` settings say which errors are
//! to become panics (`panics_on`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::result::{Error, ErrorKind};
use crate::settings::Settings;

/// Calls `f` on `handler` unless it panicked before, catching a panic (which
/// poisons it).
pub(crate) fn guarded<H, R>(
    handler: &mut H,
    poisoned: &mut bool,
    f: impl FnOnce(&mut H) -> R,
) -> Option<R> {
    if *poisoned {
        return None;
    }
    match catch_unwind(AssertUnwindSafe(|| f(handler))) {
        Ok(r) => Some(r),
        Err(_) => {
            *poisoned = true;
            None
        }
    }
}

/// Whether `settings` ask for a panic on an application error of this kind.
pub(crate) fn panics_on(settings: &Settings, error: &Error) -> bool {
    match error.kind {
        ErrorKind::Internal => settings.panic_on_internal,
        ErrorKind::Capacity => settings.panic_on_capacity,
        ErrorKind::Protocol => settings.panic_on_protocol,
        ErrorKind::Encoding(_) => settings.panic_on_encoding,
        ErrorKind::Queue(_) => settings.panic_on_queue,
        ErrorKind::Io(_) => settings.panic_on_io,
        ErrorKind::Timeout => settings.panic_on_timeout,
        _ => false,
    }
}
