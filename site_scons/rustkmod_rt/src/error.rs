//! Kernel error numbers, and the `Result` a module's functions return to C as `0` or `-errno`.

/// A kernel error: a positive errno, returned to C negated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(i32);

/// The Result of a module's functions: `Ok` is 0 (or a count) to C, `Err` is `-errno`.
pub type Result<T = ()> = core::result::Result<T, Error>;

macro_rules! errnos {
    ($($name:ident = $number:literal: $what:literal,)*) => {
        impl Error {
            $(#[doc = $what] pub const $name: Error = Error($number);)*

            /// The errno's name, for messages.
            pub fn name(self) -> &'static str {
                match self.0 { $($number => stringify!($name),)* _ => "E?" }
            }
        }
    };
}

// include/uapi/asm-generic/errno-base.h and errno.h: the same numbers on every architecture
// rustkmod builds for.
errnos! {
    EPERM = 1: "Operation not permitted",
    ENOENT = 2: "No such file or directory",
    EIO = 5: "I/O error",
    E2BIG = 7: "Argument list too long",
    EAGAIN = 11: "Try again",
    ENOMEM = 12: "Out of memory",
    EFAULT = 14: "Bad address",
    EBUSY = 16: "Device or resource busy",
    ENODEV = 19: "No such device",
    EINVAL = 22: "Invalid argument",
    ENOSPC = 28: "No space left on device",
    ENOTTY = 25: "Inappropriate ioctl for device",
    ERANGE = 34: "Math result not representable",
}

impl Error {
    /// An errno as C gives it (positive or negative).
    pub const fn from_errno(errno: i32) -> Error {
        Error(if errno < 0 { -errno } else { errno })
    }

    /// `-errno`, as a kernel function returns it.
    pub const fn to_errno(self) -> i32 {
        -self.0
    }
}

impl From<alloc::collections::TryReserveError> for Error {
    fn from(_: alloc::collections::TryReserveError) -> Error {
        Error::ENOMEM
    }
}

/// An init function's result as `module_init` wants it: 0, or `-errno`.
pub fn to_init_result(result: Result) -> i32 {
    match result {
        Ok(()) => 0,
        Err(error) => error.to_errno(),
    }
}

/// A count or an error as a `read`/`write` file operation returns it (`ssize_t`).
pub fn to_ssize(result: Result<usize>) -> isize {
    match result {
        Ok(count) => count as isize,
        Err(error) => error.to_errno() as isize,
    }
}
