//! C strings: made at compile time (`c_str!`, or Rust's own `c"..."` literals), or at run time
//! ([`CString`], formatted into kmalloc'd memory).

pub use core::ffi::CStr;
use core::fmt::{self, Write};
use core::ops::Deref;

use crate::alloc::{flags::GFP_KERNEL, KVec};
use crate::error::{code, Error};

/// An owned C string (kmalloc'd, NUL-terminated, no NUL inside), as the in-tree `CString`:
/// `CString::try_from_fmt(fmt!("dev{index}"))?`.
pub struct CString {
    bytes: KVec<u8>,       // the text and its NUL
}

impl CString {
    /// `args` formatted; `EINVAL` when the text holds a NUL, `ENOMEM` when memory is short.
    pub fn try_from_fmt(args: fmt::Arguments<'_>) -> Result<CString, Error> {
        struct Bytes(KVec<u8>, bool);
        impl Write for Bytes {
            fn write_str(&mut self, text: &str) -> fmt::Result {
                self.1 |= self.0.extend_from_slice(text.as_bytes(), GFP_KERNEL).is_err();
                Ok(())
            }
        }
        let mut out = Bytes(KVec::new(), false);
        let _ = out.write_fmt(args);
        if out.1 {
            return Err(code::ENOMEM);
        }
        if out.0.contains(&0) {
            return Err(code::EINVAL);
        }
        out.0.push(0, GFP_KERNEL)?;
        Ok(CString { bytes: out.0 })
    }
}

impl Deref for CString {
    type Target = CStr;

    fn deref(&self) -> &CStr {
        // the bytes end in their one NUL (try_from_fmt made sure)
        CStr::from_bytes_with_nul(&self.bytes).unwrap_or(c"")
    }
}

impl AsRef<CStr> for CString {
    fn as_ref(&self) -> &CStr {
        self
    }
}

impl TryFrom<&CStr> for CString {
    type Error = Error;

    fn try_from(text: &CStr) -> Result<CString, Error> {
        let mut bytes = KVec::new();
        bytes.extend_from_slice(text.to_bytes_with_nul(), GFP_KERNEL)?;
        Ok(CString { bytes })
    }
}

impl fmt::Display for CString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&alloc_free_lossy(self.to_bytes()))
    }
}

impl fmt::Debug for CString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, formatter)
    }
}

/// The text, or "?" where it is not UTF-8 (for Display).
fn alloc_free_lossy(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("?")
}

/// `text` (which must end in one NUL and hold no other) as a `&CStr`; used in constants by the
/// macros, so a bad string is a compile error.
pub const fn c_str(text: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(text.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("a C string needs one NUL, at its end"),
    }
}

/// A string literal as a `&'static CStr`: `c_str!("name")`.
#[macro_export]
macro_rules! c_str {
    ($text:expr) => {
        const { $crate::str::c_str(concat!($text, "\0")) }
    };
}

/// `fmt!("...", ...)`: formatting arguments, as the in-tree `fmt!`: `format_args!`, where a
/// `&CStr` also prints with `{}` (see [`crate::fmt`]).
#[macro_export]
macro_rules! fmt {
    ($($arg:tt)*) => { $crate::__fmt!($($arg)*) };
}
