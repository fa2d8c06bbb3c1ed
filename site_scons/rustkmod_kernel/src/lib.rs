//! `kernel`: a safe API for Rust kernel modules built with rustkmod, on every kernel it builds for.
//!
//! Its public names follow the in-tree `kernel` crate (`module!`, `Module`, `ThisModule`,
//! `pr_info!`, `error::{Error, Result, code}`), so that code and knowledge move between the two;
//! it needs no `CONFIG_RUST` in the kernel. All `unsafe` lives here: a module crate may carry
//! `#![forbid(unsafe_code)]` (the `module!` macro's expansion is this crate's, and allowed).
//!
//! - [`module!`]: the module itself (`init_module`/`cleanup_module` and its `.modinfo`), around a
//!   type implementing [`Module`]; its `Drop` runs at unload.
//! - [`pr_info!`] and the other levels: the kernel log, prefixed with the module's name.
//! - [`error`]: [`Error`](error::Error), [`Result`](error::Result) and the errno constants in
//!   [`error::code`]; an `Err` from `init` is what `insmod` reports.
//! - [`alloc`]: [`KBox`](alloc::KBox) and [`KVec`](alloc::KVec) with explicit flags
//!   (`GFP_KERNEL`, `GFP_ATOMIC`, ...); a failed allocation is `ENOMEM`, never a panic.
//! - [`module_param`]: the parameters `module!` declares (`insmod name p=v`).
//! - [`sync`]: [`Mutex`](sync::Mutex) and [`SpinLock`](sync::SpinLock) over the kernel's own,
//!   made in place ([`init`]) by [`new_mutex!`] and [`new_spinlock!`], a lock class per site.
//!
//! The kernel's types and the C wrappers come from `kernel_api.h`, bound for each kernel by
//! rustkmod (`[package.metadata.rustkmod]` in this crate's Cargo.toml).
//!
//! On the host (`cargo test` of a module crate, `scons test-host`) the crate is its host half:
//! printing to stderr, allocation from the C library, locks that spin and yield, user slices over
//! the test's own buffers, parameters at their defaults; `module!` declares the parameters only,
//! and a misc device registers nothing (a test calls its operations).
#![cfg_attr(target_os = "none", no_std)]
#![feature(allow_internal_unsafe)]
#![feature(associated_type_defaults)]
#![feature(coerce_unsized, unsize)]
#![allow(internal_features)]

// The crate's own name for itself, as module crates name it: the procedural macros' expansions
// (`::kernel::...`) work inside it too.
extern crate self as kernel;

pub mod acpi;
pub mod alloc;
pub mod auxiliary;
pub mod build_assert;
pub mod debugfs;
#[cfg(target_os = "none")]
#[doc(hidden)]
pub mod bindings;
pub mod device;
pub mod device_id;
pub mod devres;
pub mod dma;
pub mod driver;
pub mod error;
pub mod faux;
pub mod fmt;
pub mod fs;
pub mod init;
pub mod io;
pub mod irq;
pub mod ioctl;
pub mod iov;
pub mod miscdevice;
pub mod module;
pub mod module_param;
pub mod num;
pub mod of;
pub mod pci;
pub mod platform;
pub mod prelude;
mod print;
mod registrations;
pub mod revocable;
pub mod seq_file;
pub mod sizes;
pub mod str;
pub mod sync;
pub mod task;
pub mod time;
pub mod tracepoint;
pub mod transmute;
pub mod types;
pub mod uaccess;
pub mod workqueue;


pub use macros::{declare_trace, module, pin_data, pinned_drop, vtable};
#[doc(hidden)]
pub use macros::__fmt;
#[doc(hidden)]
pub use macros::__register_setter;
pub use module::{InPlaceModule, Module, ModuleMetadata, ThisModule};

#[doc(hidden)]
pub use rustkmod_rt as __rt;

/// `dbg!(expression)`: prints the file, line, expression and its value (`{:#?}`) at KERN_INFO
/// and returns the value, as std's `dbg!`; for temporary debugging.
#[macro_export]
macro_rules! dbg {
    () => {
        $crate::pr_info!("[{}:{}:{}]\n", ::core::file!(), ::core::line!(), ::core::column!())
    };
    ($value:expr $(,)?) => {
        match $value {
            value => {
                $crate::pr_info!("[{}:{}:{}] {} = {:#?}\n", ::core::file!(), ::core::line!(), ::core::column!(),
                                 ::core::stringify!($value), &value);
                value
            }
        }
    };
    ($($value:expr),+ $(,)?) => {
        ($($crate::dbg!($value)),+,)
    };
}
