//! Kernel errors: `Error` is a positive errno, returned to C negated; `Result` is what a module's
//! functions return.

pub use rustkmod_rt::error::{Error, Result};

/// The errno values by name, as `kernel::error::code::EINVAL` is in the in-tree crate.
pub mod code {
    use super::Error;

    pub const EPERM: Error = Error::EPERM;
    pub const ENOENT: Error = Error::ENOENT;
    pub const EIO: Error = Error::EIO;
    pub const E2BIG: Error = Error::E2BIG;
    pub const EAGAIN: Error = Error::EAGAIN;
    pub const ENOMEM: Error = Error::ENOMEM;
    pub const EFAULT: Error = Error::EFAULT;
    pub const EBUSY: Error = Error::EBUSY;
    pub const ENODEV: Error = Error::ENODEV;
    pub const EINVAL: Error = Error::EINVAL;
    pub const ENOTTY: Error = Error::ENOTTY;
    pub const ENOSPC: Error = Error::ENOSPC;
    pub const ERANGE: Error = Error::ERANGE;
}
