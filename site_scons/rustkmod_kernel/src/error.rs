//! Kernel errors: `Error` is a positive errno, returned to C negated; `Result` is what a module's
//! functions return.

pub use rustkmod_rt::error::{Error, Result};

/// The errno values by name, as `kernel::error::code::EINVAL` is in the in-tree crate.
pub mod code {
    use super::Error;

    macro_rules! codes {
        ($($name:ident)*) => { $(pub const $name: Error = Error::$name;)* };
    }

    codes!(EPERM ENOENT EIO E2BIG EAGAIN ENOMEM EFAULT EBUSY ENODEV EINVAL ENOTTY ENOSPC ERANGE);
}
