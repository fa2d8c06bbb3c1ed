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

// include/uapi/asm-generic/errno-base.h and errno.h, and the kernel's own (include/linux/errno.h,
// never seen by user space): the same numbers on every architecture rustkmod builds for.
errnos! {
    EPERM = 1: "Operation not permitted",
    ENOENT = 2: "No such file or directory",
    ESRCH = 3: "No such process",
    EINTR = 4: "Interrupted system call",
    EIO = 5: "I/O error",
    ENXIO = 6: "No such device or address",
    E2BIG = 7: "Argument list too long",
    ENOEXEC = 8: "Exec format error",
    EBADF = 9: "Bad file number",
    ECHILD = 10: "No child processes",
    EAGAIN = 11: "Try again",
    ENOMEM = 12: "Out of memory",
    EACCES = 13: "Permission denied",
    EFAULT = 14: "Bad address",
    ENOTBLK = 15: "Block device required",
    EBUSY = 16: "Device or resource busy",
    EEXIST = 17: "File exists",
    EXDEV = 18: "Cross-device link",
    ENODEV = 19: "No such device",
    ENOTDIR = 20: "Not a directory",
    EISDIR = 21: "Is a directory",
    EINVAL = 22: "Invalid argument",
    ENFILE = 23: "File table overflow",
    EMFILE = 24: "Too many open files",
    ENOTTY = 25: "Not a typewriter",
    ETXTBSY = 26: "Text file busy",
    EFBIG = 27: "File too large",
    ENOSPC = 28: "No space left on device",
    ESPIPE = 29: "Illegal seek",
    EROFS = 30: "Read-only file system",
    EMLINK = 31: "Too many links",
    EPIPE = 32: "Broken pipe",
    EDOM = 33: "Math argument out of domain of func",
    ERANGE = 34: "Math result not representable",
    EDEADLK = 35: "Resource deadlock would occur",
    ENAMETOOLONG = 36: "File name too long",
    ENOLCK = 37: "No record locks available",
    ENOSYS = 38: "Invalid system call number",
    ENOTEMPTY = 39: "Directory not empty",
    ELOOP = 40: "Too many symbolic links encountered",
    ENOMSG = 42: "No message of desired type",
    EIDRM = 43: "Identifier removed",
    ECHRNG = 44: "Channel number out of range",
    EL2NSYNC = 45: "Level 2 not synchronized",
    EL3HLT = 46: "Level 3 halted",
    EL3RST = 47: "Level 3 reset",
    ELNRNG = 48: "Link number out of range",
    EUNATCH = 49: "Protocol driver not attached",
    ENOCSI = 50: "No CSI structure available",
    EL2HLT = 51: "Level 2 halted",
    EBADE = 52: "Invalid exchange",
    EBADR = 53: "Invalid request descriptor",
    EXFULL = 54: "Exchange full",
    ENOANO = 55: "No anode",
    EBADRQC = 56: "Invalid request code",
    EBADSLT = 57: "Invalid slot",
    EBFONT = 59: "Bad font file format",
    ENOSTR = 60: "Device not a stream",
    ENODATA = 61: "No data available",
    ETIME = 62: "Timer expired",
    ENOSR = 63: "Out of streams resources",
    ENONET = 64: "Machine is not on the network",
    ENOPKG = 65: "Package not installed",
    EREMOTE = 66: "Object is remote",
    ENOLINK = 67: "Link has been severed",
    EADV = 68: "Advertise error",
    ESRMNT = 69: "Srmount error",
    ECOMM = 70: "Communication error on send",
    EPROTO = 71: "Protocol error",
    EMULTIHOP = 72: "Multihop attempted",
    EDOTDOT = 73: "RFS specific error",
    EBADMSG = 74: "Not a data message",
    EOVERFLOW = 75: "Value too large for defined data type",
    ENOTUNIQ = 76: "Name not unique on network",
    EBADFD = 77: "File descriptor in bad state",
    EREMCHG = 78: "Remote address changed",
    ELIBACC = 79: "Can not access a needed shared library",
    ELIBBAD = 80: "Accessing a corrupted shared library",
    ELIBSCN = 81: ".lib section in a.out corrupted",
    ELIBMAX = 82: "Attempting to link in too many shared libraries",
    ELIBEXEC = 83: "Cannot exec a shared library directly",
    EILSEQ = 84: "Illegal byte sequence",
    ERESTART = 85: "Interrupted system call should be restarted",
    ESTRPIPE = 86: "Streams pipe error",
    EUSERS = 87: "Too many users",
    ENOTSOCK = 88: "Socket operation on non-socket",
    EDESTADDRREQ = 89: "Destination address required",
    EMSGSIZE = 90: "Message too long",
    EPROTOTYPE = 91: "Protocol wrong type for socket",
    ENOPROTOOPT = 92: "Protocol not available",
    EPROTONOSUPPORT = 93: "Protocol not supported",
    ESOCKTNOSUPPORT = 94: "Socket type not supported",
    EOPNOTSUPP = 95: "Operation not supported on transport endpoint",
    EPFNOSUPPORT = 96: "Protocol family not supported",
    EAFNOSUPPORT = 97: "Address family not supported by protocol",
    EADDRINUSE = 98: "Address already in use",
    EADDRNOTAVAIL = 99: "Cannot assign requested address",
    ENETDOWN = 100: "Network is down",
    ENETUNREACH = 101: "Network is unreachable",
    ENETRESET = 102: "Network dropped connection because of reset",
    ECONNABORTED = 103: "Software caused connection abort",
    ECONNRESET = 104: "Connection reset by peer",
    ENOBUFS = 105: "No buffer space available",
    EISCONN = 106: "Transport endpoint is already connected",
    ENOTCONN = 107: "Transport endpoint is not connected",
    ESHUTDOWN = 108: "Cannot send after transport endpoint shutdown",
    ETOOMANYREFS = 109: "Too many references: cannot splice",
    ETIMEDOUT = 110: "Connection timed out",
    ECONNREFUSED = 111: "Connection refused",
    EHOSTDOWN = 112: "Host is down",
    EHOSTUNREACH = 113: "No route to host",
    EALREADY = 114: "Operation already in progress",
    EINPROGRESS = 115: "Operation now in progress",
    ESTALE = 116: "Stale file handle",
    EUCLEAN = 117: "Structure needs cleaning",
    ENOTNAM = 118: "Not a XENIX named type file",
    ENAVAIL = 119: "No XENIX semaphores available",
    EISNAM = 120: "Is a named type file",
    EREMOTEIO = 121: "Remote I/O error",
    EDQUOT = 122: "Quota exceeded",
    ENOMEDIUM = 123: "No medium found",
    EMEDIUMTYPE = 124: "Wrong medium type",
    ECANCELED = 125: "Operation Canceled",
    ENOKEY = 126: "Required key not available",
    EKEYEXPIRED = 127: "Key has expired",
    EKEYREVOKED = 128: "Key has been revoked",
    EKEYREJECTED = 129: "Key was rejected by service",
    EOWNERDEAD = 130: "Owner died",
    ENOTRECOVERABLE = 131: "State not recoverable",
    ERFKILL = 132: "Operation not possible due to RF-kill",
    EHWPOISON = 133: "Memory page has hardware error",
    EFTYPE = 134: "Wrong file type for the intended operation",
    ERESTARTSYS = 512: "ERESTARTSYS",
    ERESTARTNOINTR = 513: "ERESTARTNOINTR",
    ERESTARTNOHAND = 514: "restart if no handler..",
    ENOIOCTLCMD = 515: "No ioctl command",
    EOPENSTALE = 518: "open found a stale dentry",
    ENOPARAM = 519: "Parameter not supported",
    EBADHANDLE = 521: "Illegal NFS file handle",
    ENOTSYNC = 522: "Update synchronization mismatch",
    EBADCOOKIE = 523: "Cookie is stale",
    ENOTSUPP = 524: "Operation is not supported",
    ETOOSMALL = 525: "Buffer or request is too small",
    ESERVERFAULT = 526: "An untranslatable error occurred",
    EBADTYPE = 527: "Type not supported by server",
    EJUKEBOX = 528: "Request initiated, but will not complete before timeout",
    EIOCBQUEUED = 529: "iocb queued, will get completion event",
    ERECALLCONFLICT = 530: "conflict with recalled state",
    ENOGRACE = 531: "NFS file lock reclaim refused",
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
                crate::pr_warn_once!("Error::from_errno({errno}): not an errno, EINVAL instead\n");
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

impl From<core::convert::Infallible> for Error {
    fn from(never: core::convert::Infallible) -> Error {
        match never {}
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
