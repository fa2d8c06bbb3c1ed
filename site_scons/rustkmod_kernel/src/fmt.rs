//! Formatting, as `kernel::fmt`: the core library's traits, and what `fmt!` (behind `pr_info!`,
//! `dev_info!` and the other printing macros) passes each value through, so that a `&CStr`
//! prints with `{}` as the in-tree crate's does (`dev_info!(dev, "'{name}'")`). Every other
//! value prints exactly as `format_args!` prints it.

pub use core::fmt::*;

use core::ffi::CStr;
use core::ops::Deref;

/// A formatted value on its way to `format_args!`: `__kfmt()` picks the C-string form for a
/// `CStr`, else (through `Deref`) the value itself.
#[doc(hidden)]
pub struct __Wrap<'a, T: ?Sized>(__Value<'a, T>);

/// The value itself, for any type: formats as the value does, with every formatting trait.
#[doc(hidden)]
pub struct __Value<'a, T: ?Sized>(&'a T);

macro_rules! forward {
    ($($trait:ident)*) => {$(
        impl<T: ?Sized + $trait> $trait for __Value<'_, T> {
            fn fmt(&self, f: &mut Formatter<'_>) -> Result {
                $trait::fmt(self.0, f)
            }
        }
    )*};
}

forward!(Display Debug LowerHex UpperHex Octal Binary LowerExp UpperExp Pointer);

impl<'a, T: ?Sized> __Wrap<'a, T> {
    pub const fn new(value: &'a T) -> Self {
        __Wrap(__Value(value))
    }
}

impl<'a, T: ?Sized> Deref for __Wrap<'a, T> {
    type Target = __Value<'a, T>;

    fn deref(&self) -> &__Value<'a, T> {
        &self.0
    }
}

impl<'a, T: ?Sized> __Value<'a, T> {
    pub fn __kfmt(&self) -> __Value<'a, T> {
        __Value(self.0)
    }
}

impl<'a> __Wrap<'a, CStr> {
    pub fn __kfmt(&self) -> CStrText<'a> {
        CStrText(self.0 .0)
    }
}

impl<'a> __Wrap<'a, &CStr> {
    pub fn __kfmt(&self) -> CStrText<'a> {
        CStrText(self.0 .0)
    }
}

/// A C string as text: printable ASCII as it is, other bytes as `\xNN` (`{}`); `{:?}` quotes it.
pub struct CStrText<'a>(&'a CStr);

impl Display for CStrText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> Result {
        for &byte in self.0.to_bytes() {
            if (0x20..0x7f).contains(&byte) {
                f.write_char(byte as char)?;
            } else {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl Debug for CStrText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> Result {
        Debug::fmt(self.0, f)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;

    #[test]
    fn a_cstr_prints_with_braces_and_everything_else_as_before() {
        let name = c"compatible";
        let value = 0x2au32;
        let pointer = &value as *const u32;
        assert_eq!(format!("{}", crate::fmt!("'{name}'={value:#x} {:>4}|{:<w$}|", 7, "ab", w = 3)),
                   "'compatible'=0x2a    7|ab |");
        assert_eq!(format!("{}", crate::fmt!("{:?} {}", name, c"a\x01")), "\"compatible\" a\\x01");
        assert_eq!(format!("{}", crate::fmt!("{:p}", pointer)), format!("{:p}", pointer));
        assert_eq!(format!("{}", crate::fmt!("{:.*}|{{}}", 2, 1.5f32)), "1.50|{}");
        let width = 5;
        assert_eq!(format!("{}", crate::fmt!("{value:>width$}|{0:>1$}", 9, 2)), "   42| 9");
    }
}
