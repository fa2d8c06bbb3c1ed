//! Kernel error numbers, and the `Result` a module's functions return to C as `0` or `-errno`.

/// A kernel error: a positive errno (`1..=MAX_ERRNO`, whichever way it was made), returned to C
/// negated.
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

/// The largest errno (include/linux/err.h): C tells an error pointer or an error return from a
/// value by `-MAX_ERRNO <= x < 0`, so an `Error` holds only `1..=MAX_ERRNO`.
pub const MAX_ERRNO: i32 = 4095;

impl Error {
    /// An errno as C gives it (`-EINVAL` or `EINVAL`). Anything that is no errno (0, or beyond
    /// `MAX_ERRNO`) would reach C as a success or as a pointer, so it becomes `EINVAL`, with a
    /// warning in the kernel log naming the value (the first time).
    pub fn from_errno(errno: i32) -> Error {
        match Error::try_from_errno(errno) {
            Some(error) => error,
            None => {
                crate::pr_warn_once!("Error::from_errno({errno}): not an errno, EINVAL instead");
                Error::EINVAL
            }
        }
    }

    /// The errno `errno` (either sign), or None when it is 0 or beyond `MAX_ERRNO`.
    pub const fn try_from_errno(errno: i32) -> Option<Error> {
        // i32::MIN has no positive counterpart: compare before negating.
        if errno == 0 || errno < -MAX_ERRNO || errno > MAX_ERRNO {
            return None;
        }
        Some(Error(if errno < 0 { -errno } else { errno }))
    }

    /// `-errno`, as a kernel function returns it: always in `-MAX_ERRNO..=-1`.
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

/// A count or an error as a `read`/`write` file operation returns it (`ssize_t`); a count past
/// `isize::MAX` would read as an error, so it is cut to that.
pub fn to_ssize(result: Result<usize>) -> isize {
    match result {
        Ok(count) => count.min(isize::MAX as usize) as isize,
        Err(error) => error.to_errno() as isize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errnos_are_errors() {
        assert_eq!(Error::from_errno(-22), Error::EINVAL);
        assert_eq!(Error::from_errno(12), Error::ENOMEM);
        assert_eq!(Error::from_errno(-MAX_ERRNO).to_errno(), -MAX_ERRNO);
        for bad in [0, MAX_ERRNO + 1, -MAX_ERRNO - 1, 1_000_000, i32::MIN, i32::MAX] {
            assert_eq!(Error::try_from_errno(bad), None, "{bad}");
            assert_eq!(Error::from_errno(bad), Error::EINVAL, "{bad}");
        }
    }

    #[test]
    fn a_count_never_reads_as_an_error() {
        assert_eq!(to_ssize(Ok(usize::MAX)), isize::MAX);
        assert_eq!(to_ssize(Err(Error::EFAULT)), -14);
    }
}
