//! The module itself: the `Module` trait, `ThisModule`, and the `module!` macro that exports a
//! type implementing it as the module's `init_module`/`cleanup_module`, with its `.modinfo`.
//!
//! Kbuild's generated `<module>.mod.c` points `__this_module.init` and `.exit` at the symbols
//! `init_module` and `cleanup_module`; the macro defines them (C's `module_init()` makes the same
//! aliases), so the module needs no C file of its own.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

use crate::error::{Error, Result};
use crate::init::PinInit;

/// A loadable module's state: made by `init` at `insmod`, dropped at `rmmod`. It is made in
/// insmod's task and dropped in rmmod's, and shared with every callback meanwhile: `Send + Sync`.
pub trait Module: Sized + Send + Sync {
    /// Called once when the module is loaded; an `Err` fails `insmod` with that errno.
    fn init(module: &'static ThisModule) -> Result<Self>;
}

/// What `module!` says of the module's type, as in-tree: its name (`<LocalModule as
/// kernel::ModuleMetadata>::NAME`, where `module!` makes `LocalModule` the module's type).
pub trait ModuleMetadata {
    /// The `name:` given to `module!`.
    const NAME: &'static crate::str::CStr;
}

/// A module's state made in place (it may hold `#[pin]` fields: a lock, a registration), as the
/// in-tree `InPlaceModule`; every [`Module`] is one.
pub trait InPlaceModule: Sync + Send {
    /// The state's initialiser, run once when the module is loaded; an `Err` fails `insmod`.
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error>;
}

impl<T: Module> InPlaceModule for T {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let made = <T as Module>::init(module);
        // SAFETY: on Ok the value is written whole; on Err nothing is written.
        unsafe { crate::init::pin_init_from_closure(move |slot: *mut T| made.map(|value| slot.write(value))) }
    }
}

/// The module's `struct module` (C's `THIS_MODULE`), for APIs that take an owner.
pub struct ThisModule(*mut core::ffi::c_void);

// SAFETY: `struct module` of a loaded module lives until after cleanup; the kernel synchronises it.
unsafe impl Sync for ThisModule {}

impl ThisModule {
    /// # Safety
    /// `pointer` must be the module's own `__this_module`.
    pub const unsafe fn from_ptr(pointer: *mut core::ffi::c_void) -> ThisModule {
        ThisModule(pointer)
    }

    /// The `struct module *` to hand to C.
    pub fn as_ptr(&self) -> *mut core::ffi::c_void {
        self.0
    }

    /// On the host (tests): a module with no `struct module`, for calling `Module::init` in a test.
    #[cfg(not(target_os = "none"))]
    pub const fn host() -> ThisModule {
        ThisModule(core::ptr::null_mut())
    }
}

/// Where `module!` keeps the module's state between `init_module` and `cleanup_module`, made in
/// place (a static never moves). The macro puts it, and the entry points that call it, where the
/// module's own code cannot name them.
#[doc(hidden)]
pub struct ModuleState<T>(UnsafeCell<MaybeUninit<T>>);

// SAFETY: the kernel calls init_module and cleanup_module once each, never at the same time, and
// nothing else touches the state; the state itself is Send + Sync (InPlaceModule).
unsafe impl<T: Send + Sync> Sync for ModuleState<T> {}

impl<T: InPlaceModule> ModuleState<T> {
    #[doc(hidden)]
    pub const fn new() -> Self {
        ModuleState(UnsafeCell::new(MaybeUninit::uninit()))
    }

    /// `init_module`: 0, or the negated errno of `T::init`'s error (after removing whatever
    /// `init` registered and forgot).
    ///
    /// # Safety
    /// Called once, as the module's `init_module`, before anything else touches the state; the
    /// state is a `static` (it never moves).
    #[doc(hidden)]
    pub unsafe fn init(&self, module: &'static ThisModule) -> core::ffi::c_int {
        #[cfg(target_os = "none")]
        // SAFETY: init_module runs once, before the module's own code.
        unsafe {
            crate::registrations::start();
            if !crate::workqueue::start() {
                return crate::error::code::ENOMEM.to_errno();      // the module's work queue
            }
        }
        // SAFETY: the slot is the static's, valid and never moved; nothing else touches it yet.
        let made = unsafe { T::init(module).__pinned_init((*self.0.get()).as_mut_ptr()) };
        rustkmod_rt::print::end_open_line();
        match made {
            Ok(()) => {
                #[cfg(target_os = "none")]
                crate::registrations::set_live();
                0
            }
            Err(error) => {
                #[cfg(target_os = "none")]
                // SAFETY: init failed: what it made is dropped; its queued work runs now, and no
                // code of the module runs after this but the kernel's freeing of it.
                unsafe {
                    crate::registrations::remove_leftovers();
                    crate::workqueue::finish();
                }
                error.to_errno()
            }
        }
    }

    /// `cleanup_module`: drops the state in place, then removes any registration it forgot.
    ///
    /// # Safety
    /// Called once, as the module's `cleanup_module`, after `init` returned 0.
    #[doc(hidden)]
    pub unsafe fn exit(&self) {
        // SAFETY: cleanup_module runs once, after init_module succeeded (so the value is made)
        // and when nothing runs the module's code (an open file holds the module, so none is left).
        unsafe { core::ptr::drop_in_place((*self.0.get()).as_mut_ptr()) };
        #[cfg(target_os = "none")]
        // SAFETY: the state is dropped; only this runs (and the work it queued, which the queue's
        // destruction runs to the end before returning).
        unsafe {
            crate::registrations::remove_leftovers();
            crate::workqueue::finish();
        }
        rustkmod_rt::print::end_open_line();
    }
}

/// A `.modinfo` entry (`tag=value\0`) as the bytes of a static of length `N`.
#[doc(hidden)]
pub const fn modinfo<const N: usize>(entry: &str) -> [u8; N] {
    let bytes = entry.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < bytes.len() && i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// What `module!` (a procedural macro, `rustkmod_macros`, which checks the keys) expands to: the
/// module's state and entry points, `.modinfo` and parameters. `module!` takes the in-tree keys:
///
/// ```ignore
/// module! {
///     type: Hello,
///     name: "hello",
///     authors: ["A. Author"],
///     description: "Says hello",
///     license: "GPL",
///     params: {
///         greeting_count: u32 {
///             default: 1,
///             description: "How many times to say hello",
///         },
///     },
/// }
/// ```
///
/// A parameter's type is one of `bool`, `u8`, `i16`, `u16`, `i32`, `u32`, `i64`, `u64`, `isize`,
/// `usize` or `str` (a string literal default); its value is
/// `*module_parameters::greeting_count.value()` (a `&[u8]` for `str`). Optional keys: `alias`,
/// `firmware`, `imports_ns` (lists of strings, `.modinfo` entries each); the type implements
/// [`Module`] or [`InPlaceModule`].
#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __module_items {
    (type: $type:ty, license: $license:literal, modinfo: [$(($tag:literal, $value:literal),)*],
     params: { $($pname:ident : $ptype:ident { default: $pdefault:expr, description: $pdescription:literal $(,)? }),* $(,)? }) => {
        // The state and the entry points, private to a module of their own, where the module's
        // code cannot name them (a module calling its own exit would free its state twice). On
        // the host they exist too, unused, so that a crate's host build refuses what the kernel
        // build would; a test calls `<T as Module>::init` itself.
        #[doc(hidden)]
        #[allow(dead_code)]
        mod __rustkmod_module_entry {
            #[allow(unused_imports)]        // unused when the type is named by a full path
            use super::*;

            static __RUSTKMOD_MODULE: $crate::module::ModuleState<$type> = $crate::module::ModuleState::new();

            extern "C" fn __rustkmod_init_module() -> core::ffi::c_int {
                #[cfg(target_os = "none")]
                // SAFETY: __this_module is this module's `struct module`, defined by Kbuild's .mod.c.
                static THIS: $crate::ThisModule =
                    unsafe { $crate::ThisModule::from_ptr(&raw mut __this_module as *mut core::ffi::c_void) };
                #[cfg(not(target_os = "none"))]
                static THIS: $crate::ThisModule = $crate::ThisModule::host();
                // SAFETY: the kernel calls init_module once, first.
                unsafe { __RUSTKMOD_MODULE.init(&THIS) }
            }

            extern "C" fn __rustkmod_cleanup_module() {
                // SAFETY: the kernel calls cleanup_module once, after init_module returned 0.
                unsafe { __RUSTKMOD_MODULE.exit() }
            }

            #[cfg(target_os = "none")]
            $crate::__entry!(init_module, __rustkmod_init_module_entry, __rustkmod_init_module, core::ffi::c_int);
            #[cfg(target_os = "none")]
            $crate::__entry!(cleanup_module, __rustkmod_cleanup_module_entry, __rustkmod_cleanup_module, ());
        }

        #[cfg(target_os = "none")]
        unsafe extern "C" {
            static mut __this_module: u8;
        }

        $crate::__modinfo!("license=", $license);
        $($crate::__modinfo!($tag, $value);)*

        /// The module's parameters, as `insmod` set them.
        #[allow(dead_code)]
        mod module_parameters {
            $(
                #[allow(non_upper_case_globals)]
                pub static $pname: $crate::__param_kind!($ptype, storage_type) =
                    $crate::__param_kind!($ptype, storage $pdefault);
            )*
        }

        $(
            #[cfg(target_os = "none")]
            const _: () = {
                #[unsafe(link_section = "__param")]
                #[used]
                static PARAM: $crate::module_param::ParamEntry =
                    $crate::module_param::ParamEntry($crate::module_param::KernelParam {
                        name: concat!(stringify!($pname), "\0").as_ptr() as *const core::ffi::c_char,
                        module: &raw mut __this_module as *mut core::ffi::c_void,
                        ops: $crate::__param_kind!($ptype, ops),
                        perm: $crate::module_param::PERM_READ_ONLY,
                        level: -1,
                        flags: 0,
                        arg: module_parameters::$pname.as_arg(),
                    });
            };
            $crate::__modinfo!("parmtype=", concat!(stringify!($pname), ":", $crate::__param_kind!($ptype, name)));
            $crate::__modinfo!("parm=", concat!(stringify!($pname), ":", $pdescription));
        )*
    };
}

/// One of the module's two entry points, `init_module` or `cleanup_module`. On x86_64 it is an
/// alias (a second name at the same address) of a function starting with `endbr64`, as C's
/// `module_init(fn)` makes it: the kernel calls it indirectly (IBT), and the kernel's objtool
/// (from 7.x, run on the linked module) refuses an entry point that is no alias ("Magic
/// init_module() function name is deprecated"). Elsewhere it is the function itself.
#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __entry {
    ($name:ident, $alias:ident, $function:ident, $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        core::arch::global_asm!(
            concat!(".pushsection .text.", stringify!($name), ",\"ax\",@progbits"),
            concat!(".globl ", stringify!($name)),
            concat!(".globl ", stringify!($alias)),
            concat!(".type ", stringify!($name), ",@function"),
            concat!(".type ", stringify!($alias), ",@function"),
            concat!(stringify!($name), ":"),
            concat!(stringify!($alias), ":"),
            "endbr64",
            "jmp {function}",
            concat!(".size ", stringify!($name), ", .-", stringify!($name)),
            concat!(".size ", stringify!($alias), ", .-", stringify!($alias)),
            ".popsection",
            function = sym $function,
        );

        #[cfg(not(target_arch = "x86_64"))]
        #[unsafe(no_mangle)]
        pub extern "C" fn $name() -> $ret {
            $function()
        }
    };
}

#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __modinfo {
    ($tag:literal, $value:expr) => {
        #[cfg(target_os = "none")]
        const _: () = {
            #[unsafe(link_section = ".modinfo")]
            #[used]
            static ENTRY: [u8; concat!($tag, $value, "\0").len()] =
                $crate::module::modinfo(concat!($tag, $value, "\0"));
        };
    };
}
