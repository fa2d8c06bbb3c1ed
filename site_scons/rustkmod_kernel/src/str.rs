//! C strings made at compile time.

use core::ffi::CStr;

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

/// `fmt!("...", ...)`: formatting arguments, as the in-tree `fmt!` (the core library's
/// `format_args!`).
#[macro_export]
macro_rules! fmt {
    ($($arg:tt)*) => { ::core::format_args!($($arg)*) };
}
