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
    (i64, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, i64, param_ops_long, "long" $(, $default)?) };
    (u64, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, u64, param_ops_ullong, "ullong" $(, $default)?) };
    (str, $what:ident $($default:expr)?) => { $crate::__param_pick!($what, str, param_ops_charp, "charp" $(, $default)?) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __param_pick {
    (storage, str, $ops:ident, $name:literal, $default:expr) => {
        $crate::module_param::StrParam::new($crate::c_str!($default))
    };
    (storage, i64, $ops:ident, $name:literal, $default:expr) => {{
        // C's long: 64 bits on 64-bit kernels only (use i32, or u64 for ullong, on 32-bit ones)
        const _: () = assert!(core::mem::size_of::<core::ffi::c_long>() == 8, "an i64 parameter needs a 64-bit kernel");
        $crate::module_param::ModuleParam::<i64>::new($default)
    }};
    (storage, $type:ident, $ops:ident, $name:literal, $default:expr) => {
        $crate::module_param::ModuleParam::<$type>::new($default)
    };
    (storage_type, str, $ops:ident, $name:literal) => { $crate::module_param::StrParam };
    (storage_type, $type:ident, $ops:ident, $name:literal) => { $crate::module_param::ModuleParam<$type> };
    (ops, $type:ident, $ops:ident, $name:literal) => { &raw const $crate::bindings::$ops as *const core::ffi::c_void };
    (name, $type:ident, $ops:ident, $name:literal) => { $name };
}
