//! Module parameters, declared in `module!`'s `params:` and set with `insmod name p=v`.
//!
//! Each parameter is a `struct kernel_param` in the module's `__param` section, as C's
//! `module_param()` makes it: the loader parses `p=v` with the kernel's own `param_ops_<type>`
//! into the parameter's storage before `init` runs, and shows it read-only (0444) under
//! `/sys/module/<name>/parameters/`. Being read-only after load, a parameter is read without a
//! lock: `*module_parameters::p.value()`.

use core::cell::UnsafeCell;
use core::ffi::{c_char, c_void, CStr};

/// `struct kernel_param`, with this kernel's layout (checked against its bindings).
#[doc(hidden)]
#[repr(C)]
pub struct KernelParam {
    pub name: *const c_char,
    pub module: *mut c_void,
    pub ops: *const c_void,
    pub perm: u16,
    pub level: i8,
    pub flags: u8,
    pub arg: *mut c_void,
}

#[cfg(target_os = "none")]
const _: () = assert!(
    core::mem::size_of::<KernelParam>() == core::mem::size_of::<crate::bindings::kernel_param>(),
    "struct kernel_param has another layout on this kernel"
);

/// A parameter's entry in `__param`.
#[doc(hidden)]
#[repr(transparent)]
pub struct ParamEntry(pub KernelParam);

// SAFETY: the entry is read by the kernel's parameter code only, under its own lock.
unsafe impl Sync for ParamEntry {}

/// Read-only in sysfs (S_IRUGO).
#[doc(hidden)]
pub const PERM_READ_ONLY: u16 = 0o444;

/// A parameter's value, written by the loader before `init` and read-only afterwards.
#[repr(transparent)]
pub struct ModuleParam<T>(UnsafeCell<T>);

// SAFETY: the loader writes the value before init runs; nothing writes it afterwards (0444).
unsafe impl<T: Sync> Sync for ModuleParam<T> {}

impl<T> ModuleParam<T> {
    #[doc(hidden)]
    pub const fn new(default: T) -> Self {
        ModuleParam(UnsafeCell::new(default))
    }

    /// The value: the default, or what `insmod name p=v` gave.
    pub fn value(&self) -> &T {
        // SAFETY: no writer after load (see the type).
        unsafe { &*self.0.get() }
    }

    #[doc(hidden)]
    pub const fn as_arg(&self) -> *mut c_void {
        self.0.get() as *mut c_void
    }
}

/// A string parameter (C's `charp`): the default, or the loader's copy of what was given.
#[repr(transparent)]
pub struct StrParam(UnsafeCell<*const c_char>);

// SAFETY: as for ModuleParam.
unsafe impl Sync for StrParam {}

impl StrParam {
    #[doc(hidden)]
    pub const fn new(default: &'static CStr) -> Self {
        StrParam(UnsafeCell::new(default.as_ptr()))
    }

    /// The value's bytes, without the NUL.
    pub fn value(&self) -> &[u8] {
        // SAFETY: no writer after load; the pointer is the static default or the loader's copy,
        // which lives until the module is unloaded. charp may be set to NULL by the kernel.
        unsafe {
            let pointer = *self.0.get();
            if pointer.is_null() { &[] } else { CStr::from_ptr(pointer).to_bytes() }
        }
    }

    #[doc(hidden)]
    pub const fn as_arg(&self) -> *mut c_void {
        self.0.get() as *mut c_void
    }
}

/// A parameter type's storage, its `param_ops_*` and its `parmtype` name.
#[doc(hidden)]
#[macro_export]
macro_rules! __param_kind {
    (bool, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, bool, param_ops_bool, "bool" $(, $default)?) };
    (u8, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, u8, param_ops_byte, "byte" $(, $default)?) };
    (i16, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, i16, param_ops_short, "short" $(, $default)?) };
    (u16, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, u16, param_ops_ushort, "ushort" $(, $default)?) };
    (i32, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, i32, param_ops_int, "int" $(, $default)?) };
    (u32, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, u32, param_ops_uint, "uint" $(, $default)?) };
    (isize, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, isize, param_ops_long, "long" $(, $default)?) };
    (usize, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, usize, param_ops_ulong, "ulong" $(, $default)?) };
    (i64, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, i64, param_ops_long, "i64" $(, $default)?) };
    (u64, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, u64, param_ops_ullong, "ullong" $(, $default)?) };
    (str, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, str, param_ops_charp, "charp" $(, $default)?) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __param_pick {
    (storage, str, $ops:ident, $name:literal, $default:expr) => {
        $crate::module_param::StrParam::new($crate::c_str!($default))
    };
    (storage, $type:ident, $ops:ident, $name:literal, $default:expr) => {
        $crate::module_param::ModuleParam::<$type>::new($default)
    };
    (storage_type, str, $ops:ident, $name:literal) => { $crate::module_param::StrParam };
    (storage_type, $type:ident, $ops:ident, $name:literal) => { $crate::module_param::ModuleParam<$type> };
    (ops, i64, $ops:ident, $name:literal) => { $crate::module_param::OPS_I64 };
    (ops, $type:ident, $ops:ident, $name:literal) => { &raw const $crate::bindings::$ops as *const core::ffi::c_void };
    (name, $type:ident, $ops:ident, $name:literal) => { $name };
}

/// The operations of an `i64` parameter: C's `long` ones where a long is 64 bits; elsewhere
/// (32-bit kernels, which have no signed 64-bit `param_ops`) this crate's, parsing as the
/// kernel's `kstrtoll(value, 0)` does (decimal, `0x` hex, `0` octal).
#[cfg(all(target_os = "none", target_pointer_width = "64"))]
#[doc(hidden)]
pub const OPS_I64: *const c_void = &raw const crate::bindings::param_ops_long as *const c_void;

#[cfg(all(target_os = "none", not(target_pointer_width = "64")))]
#[doc(hidden)]
pub const OPS_I64: *const c_void = &raw const I64_OPERATIONS.0 as *const c_void;

#[cfg(all(target_os = "none", not(target_pointer_width = "64")))]
#[repr(transparent)]
struct Operations(crate::bindings::kernel_param_ops);

// SAFETY: read-only, by the kernel's parameter code.
#[cfg(all(target_os = "none", not(target_pointer_width = "64")))]
unsafe impl Sync for Operations {}

#[cfg(all(target_os = "none", not(target_pointer_width = "64")))]
static I64_OPERATIONS: Operations = Operations({
    // SAFETY: all-zero kernel_param_ops is C's `{}` (no flags, no free).
    let mut operations: crate::bindings::kernel_param_ops = unsafe { core::mem::zeroed() };
    operations.set = Some(set_i64);
    operations.get = Some(get_i64);
    operations
});

/// `kstrtoll(text, 0)`: an optional sign, then decimal, `0x` hex or `0` octal; one trailing
/// newline allowed (what `echo` adds).
#[cfg_attr(not(all(target_os = "none", not(target_pointer_width = "64"))), allow(dead_code))]
fn parse_i64(text: &[u8]) -> Result<i64, crate::error::Error> {
    use crate::error::code::{EINVAL, ERANGE};
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix(b"0x").or_else(|| digits.strip_prefix(b"0X")) {
        (16, hex)
    } else if digits.len() > 1 && digits[0] == b'0' {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() {
        return Err(EINVAL);
    }
    let mut magnitude: u64 = 0;
    for &byte in digits {
        let digit = (byte as char).to_digit(radix).ok_or(EINVAL)? as u64;
        magnitude = magnitude.checked_mul(radix as u64).and_then(|m| m.checked_add(digit)).ok_or(ERANGE)?;
    }
    if negative {
        if magnitude > i64::MAX as u64 + 1 { Err(ERANGE) } else { Ok((magnitude as i64).wrapping_neg()) }
    } else {
        i64::try_from(magnitude).map_err(|_| ERANGE)
    }
}

#[cfg(all(target_os = "none", not(target_pointer_width = "64")))]
unsafe extern "C" fn set_i64(value: *const c_char, parameter: *const crate::bindings::kernel_param) -> core::ffi::c_int {
    // SAFETY: the kernel gives a NUL-terminated value and this parameter, whose arg is the
    // ModuleParam<i64>'s storage (KernelParam's layout is the kernel's, checked above).
    unsafe {
        match parse_i64(CStr::from_ptr(value).to_bytes()) {
            Ok(number) => {
                *((*(parameter as *const KernelParam)).arg as *mut i64) = number;
                0
            }
            Err(error) => error.to_errno(),
        }
    }
}

#[cfg(all(target_os = "none", not(target_pointer_width = "64")))]
unsafe extern "C" fn get_i64(buffer: *mut c_char, parameter: *const crate::bindings::kernel_param) -> core::ffi::c_int {
    use core::fmt::Write;
    struct Page(*mut u8, usize);
    impl Write for Page {
        fn write_str(&mut self, text: &str) -> core::fmt::Result {
            // at most 21 bytes ("-9223372036854775808\n") into the kernel's page
            // SAFETY: the buffer is a page (sysfs's), far larger than any i64's text.
            unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), self.0.add(self.1), text.len()) };
            self.1 += text.len();
            Ok(())
        }
    }
    // SAFETY: the parameter's arg is the ModuleParam<i64>'s storage.
    let number = unsafe { *((*(parameter as *const KernelParam)).arg as *const i64) };
    let mut page = Page(buffer as *mut u8, 0);
    let _ = writeln!(page, "{number}");
    page.1 as core::ffi::c_int
}

#[cfg(test)]
mod tests {
    use super::parse_i64;

    #[test]
    fn an_i64_parses_as_kstrtoll_parses_it() {
        assert_eq!(parse_i64(b"42\n"), Ok(42));
        assert_eq!(parse_i64(b"-0x10"), Ok(-16));
        assert_eq!(parse_i64(b"010"), Ok(8));
        assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert!(parse_i64(b"9223372036854775808").is_err());
        assert!(parse_i64(b"12a").is_err() && parse_i64(b"").is_err() && parse_i64(b"-").is_err());
    }
}
